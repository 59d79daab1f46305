/**
 * TEST ONLY: a HostConnector whose hosts are this machine: commands run under `sh -c`, files
 * are written with fs. Resource unit tests use it to run their real shell scripts (qemu-img
 * and all) without SSH or the lab. Records every call, to count round trips.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import { createProviderContext, HostConfig, ProviderContext } from '../../provider/config/provider-context';
import { HostConnector, hostErrorToOrbitError, RemoteHost, RemoteHostOptions } from '../../provider/config/host-connections';
import { RemoteCommandError } from '../../provider/ssh/host-errors';
import { ExecOptions, ExecResult } from '../../provider/ssh/remote-exec';

export interface LocalCall {
  host: string;
  kind: 'exec' | 'readFile' | 'writeFile';
  /** The command, or the file. */
  what: string;
}

export class LocalHostConnector implements HostConnector {
  readonly calls: LocalCall[] = [];
  /** Extra environment for commands, e.g. a PATH with fake binaries first. */
  env: Record<string, string> = {};

  connect(host: HostConfig, options: RemoteHostOptions = {}): RemoteHost {
    const address = { name: host.name, address: host.address, port: host.port };
    const fail = (error: unknown) => {
      throw hostErrorToOrbitError(error, host.name, options.attribute);
    };
    return {
      name: host.name,
      exec: async (command: string, o: ExecOptions = {}): Promise<ExecResult> => {
        this.calls.push({ host: host.name, kind: 'exec', what: command });
        const result = await runLocally(command, o.stdin, { ...process.env, ...this.env, ...o.env });
        if (result.code !== 0 && !o.allowFailure) fail(new RemoteCommandError(address, { command, exitCode: result.code, stdout: result.stdout, stderr: result.stderr }));
        return result;
      },
      readFile: async (file: string) => {
        this.calls.push({ host: host.name, kind: 'readFile', what: file });
        return fs.readFileSync(file);
      },
      writeFile: async (file: string, data: Buffer | string) => {
        this.calls.push({ host: host.name, kind: 'writeFile', what: file });
        fs.writeFileSync(`${file}.tmp`, data);
        fs.renameSync(`${file}.tmp`, file);
      },
      withSession: () => Promise.reject(new Error('LocalHostConnector has no SSH session; drive QEMU through a lab host instead')),
      session: () => Promise.reject(new Error('LocalHostConnector has no SSH session; drive QEMU through a lab host instead')),
    };
  }

  count(kind: LocalCall['kind']): number {
    return this.calls.filter((c) => c.kind === kind).length;
  }
}

function runLocally(command: string, stdin: ExecOptions['stdin'], env: NodeJS.ProcessEnv): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal: signal ?? undefined }));
    child.stdin.on('error', () => undefined); // commands that never read stdin
    if (stdin === undefined || typeof stdin === 'string' || Buffer.isBuffer(stdin)) child.stdin.end(stdin ?? undefined);
    else stdin.pipe(child.stdin);
  });
}

/** A provider context whose hosts (`local`, or the names given) are this machine. */
export function localProviderContext(connector: LocalHostConnector, names: string[] = ['local']): ProviderContext {
  const hosts: HostConfig[] = names.map((name) => ({
    name,
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    privateKey: { kind: 'inline', pem: 'unused' },
    hostKey: { kind: 'fingerprint', sha256: `SHA256:${'A'.repeat(43)}` },
    qemuBinary: 'qemu-system-x86_64',
    dataAddress: '127.0.0.1',
  }));
  return createProviderContext({ terraformVersion: '1.11.4', hosts, connector });
}
