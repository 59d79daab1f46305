/**
 * The SSH client key Orbit uses to log in to a host. Exactly one source, chosen with a static
 * factory (the provider's private_key_path / private_key_env / private_key).
 */

/** How the key is given to the provider. */
export interface SshKeyConfig {
  readonly privateKeyPath?: string;
  readonly privateKeyEnv?: string;
  readonly privateKey?: string;
}

export class SshKey {
  /** A private key file on the machine that runs terraform (`~` is expanded). */
  public static fromFile(path: string): SshKey {
    return new SshKey({ privateKeyPath: path }, `file ${path}`);
  }

  /** An environment variable of the terraform process holding the private key (PEM or OpenSSH format). */
  public static fromEnvironment(variableName: string): SshKey {
    return new SshKey({ privateKeyEnv: variableName }, `environment variable ${variableName}`);
  }

  /**
   * The private key itself, e.g. from a secret store. Passed as a write-only attribute: never
   * stored in terraform state, but present in the synthesized configuration, so prefer
   * `fromFile` or `fromEnvironment`.
   */
  public static fromValue(privateKey: string): SshKey {
    return new SshKey({ privateKey }, 'inline key');
  }

  private constructor(
    /** The provider attributes for this key. */
    public readonly config: SshKeyConfig,
    /** For messages. */
    public readonly description: string,
  ) {}
}
