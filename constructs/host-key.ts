/**
 * The pinned SSH host key of a host. Orbit never trusts a host key on first use, so every Host
 * declares one (the provider's host_key or known_hosts).
 */
import { Token } from 'cdktf';

const PUBLIC_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}(\s.*)?$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** How the pin is given to the provider. */
export interface HostKeyConfig {
  readonly hostKey?: string;
  readonly knownHosts?: string;
}

export class HostKey {
  /**
   * The host's public key, e.g. the content of /etc/ssh/ssh_host_ed25519_key.pub on the host:
   * `ssh-ed25519 AAAAC3Nza...`.
   */
  public static publicKey(key: string): HostKey {
    if (!Token.isUnresolved(key) && !PUBLIC_KEY.test(key.trim())) {
      throw new Error(
        `HostKey.publicKey: ${JSON.stringify(key)} is not an SSH public key. Allowed: "<type> <base64>" with type ssh-ed25519, ` +
          'ecdsa-sha2-nistp256/384/521 or ssh-rsa. Fix: copy /etc/ssh/ssh_host_ed25519_key.pub from the host, or use HostKey.fingerprint("SHA256:...").',
      );
    }
    return new HostKey({ hostKey: key.trim() });
  }

  /** The SHA-256 fingerprint of the host's key, as `ssh-keygen -lf` prints it: `SHA256:` and 43 base64 characters. */
  public static fingerprint(fingerprint: string): HostKey {
    if (!Token.isUnresolved(fingerprint) && !FINGERPRINT.test(fingerprint)) {
      throw new Error(
        `HostKey.fingerprint: ${JSON.stringify(fingerprint)} is not a SHA-256 fingerprint. Allowed: "SHA256:" followed by 43 base64 characters. ` +
          'Fix: run `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host and copy the second field.',
      );
    }
    return new HostKey({ hostKey: fingerprint });
  }

  /** OpenSSH known_hosts lines for the host, or the path of a known_hosts file that has them. */
  public static knownHosts(linesOrPath: string): HostKey {
    return new HostKey({ knownHosts: linesOrPath });
  }

  private constructor(
    /** The provider attributes for this pin. */
    public readonly config: HostKeyConfig,
  ) {}
}
