/**
 * TEST ONLY: the real terraform binary with the installed orbit provider against the lab's
 * hosts. `setUpLabTerraform()` brings the lab up (idempotent; the test runner takes it down),
 * installs the provider into a temporary directory and hands out workspaces whose provider
 * block is generated from the lab description.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ExecOptions, ExecResult } from '../../provider/ssh/remote-exec';
import { installProvider, InstallResult } from '../../scripts/provider-install';
import { LabDescription, LabHost } from '../../scripts/lab/description';
import { labUp } from '../../scripts/lab/lab';
import { connectToLabHost, labHost } from '../../scripts/lab/lab-ssh';
import { requiredProviders, Workspace } from './terraform';

export const REPO = path.resolve(__dirname, '../..');

export interface HostBlockOptions {
  /** Overrides per host name, e.g. `{ 'site-a': { port: 2222 } }`; `null` leaves an attribute out. */
  overrides?: Record<string, Partial<Record<'address' | 'port' | 'host_key' | 'known_hosts' | 'private_key_path' | 'data_address' | 'qemu_binary', string | number | null>>>;
  /** Only these lab hosts (default all). */
  only?: string[];
  /**
   * The failover monitor: the lab's etcd (TLS, the provider's client certificate), a monitor
   * block with the lab's keys (daemon agents, the lab key for re-protection), and each host's
   * agent certificate.
   */
  monitor?: boolean;
}

export interface LabTerraform {
  lab: LabDescription;
  install: InstallResult;
  /** Environment for terraform and cdktf: the mirror's CLI config and where the provider finds the test guest. */
  env: Record<string, string>;
  /** `provider "orbit" { hosts { ... } }` for the lab. */
  providerBlock(options?: HostBlockOptions): string;
  /** A workspace whose main.tf is required_providers + the provider block + `body`. */
  workspace(body: string, options?: HostBlockOptions): Workspace;
  /** Runs a command on a lab host over SSH (as the tests' own eyes, not through the provider). */
  ssh(host: string, command: string, options?: Pick<ExecOptions, 'stdin'>): Promise<ExecResult>;
  cleanup(): void;
}

export async function setUpLabTerraform(): Promise<LabTerraform> {
  const lab = await labUp();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-lab-tf-'));
  const install = installProvider({ dir: path.join(dir, 'install'), log: () => undefined });
  const env = {
    TF_CLI_ARGS_providers_lock: `-fs-mirror=${install.mirrorDir}`,
    // the provider runs from the temporary install, outside the checkout: tell it where the guest is
    ORBIT_CACHE: path.join(REPO, '.cache'),
  };
  const cliConfig = fs.readFileSync(install.cliConfigPath, 'utf8');
  const workspaces: Workspace[] = [];

  const providerBlock = (options: HostBlockOptions = {}) => {
    const hosts = lab.hosts.filter((h) => !options.only || options.only.includes(h.name));
    const agentCerts = (h: LabHost) => (options.monitor ? { agent_cert_path: lab.etcd.clients[h.name].certPath, agent_key_path: lab.etcd.clients[h.name].keyPath } : {});
    const blocks = hosts.map((h) => hostBlock(lab, h, { ...agentCerts(h), ...(options.overrides?.[h.name] ?? {}) }));
    if (options.monitor) blocks.push(monitorBlocks(lab));
    return `provider "orbit" {\n${blocks.join('')}}\n`;
  };

  return {
    lab,
    install,
    env: { ...env, TF_CLI_CONFIG_FILE: install.cliConfigPath },
    providerBlock,
    workspace(body, options) {
      const ws = Workspace.create({ cliConfig, env });
      ws.write('main.tf', `${requiredProviders}\n${providerBlock(options)}\n${body}\n`);
      workspaces.push(ws);
      return ws;
    },
    async ssh(host, command, options = {}) {
      const session = await connectToLabHost(lab, labHost(lab, host).name);
      try {
        return await session.exec(command, { ...options, allowFailure: true });
      } finally {
        await session.close();
      }
    },
    cleanup() {
      for (const ws of workspaces) ws.remove();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function hostBlock(lab: LabDescription, host: LabHost, overrides: Record<string, string | number | null | undefined>): string {
  const attributes: Record<string, string | number | null | undefined> = {
    name: host.name,
    address: host.address,
    port: host.sshPort,
    user: host.sshUser,
    private_key_path: host.privateKeyPath,
    known_hosts: lab.knownHostsPath,
    ...overrides,
  };
  const lines = Object.entries(attributes)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => `    ${name} = ${JSON.stringify(value)}\n`);
  return `  hosts {\n${lines.join('')}  }\n`;
}

function monitorBlocks(lab: LabDescription): string {
  const provider = lab.etcd.clients.provider;
  return `  etcd {
    endpoints = ${JSON.stringify(lab.etcd.endpoints)}
    ca_path   = ${JSON.stringify(lab.etcd.caPath)}
    cert_path = ${JSON.stringify(provider.certPath)}
    key_path  = ${JSON.stringify(provider.keyPath)}
  }
  monitor {
    signing_key_path   = ${JSON.stringify(lab.monitor.signingKeyPath)}
    heartbeat_key_path = ${JSON.stringify(lab.monitor.heartbeatKeyPath)}
    agent_ssh_key_path = ${JSON.stringify(lab.privateKeyPath)}
    service_manager    = "daemon"
  }
`;
}

/** A disk name no earlier run can have left behind. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}
