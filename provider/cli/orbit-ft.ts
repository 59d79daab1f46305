/**
 * `orbit-ft`: the operator's hands on COLO pairs, for when the monitor agent is not there (or
 * a human must decide), and on any VM's console. `npm run orbit-ft -- <command> ...`
 *
 *   console <vm> --on <host> [--tail <lines>]   the VM's serial console (Ctrl-] ends)
 *   status <vm>                         protection state, active host, checkpoints (JSON)
 *   failover <vm> --on <host> [--peer <host>]   the guest on <host> carries on alone
 *   fence <vm> --on <host>              stop the guest on <host> for good
 *   reprotect <vm> --from <host> --onto <host>  give the running guest a new secondary
 *   agents [vm]                         each host's failover monitor agent: release, supervisor, its view of the pairs (JSON)
 *   events <vm>                         the failovers, fences and re-protections the agents recorded in etcd
 *
 * On a pair the monitor watches (failover = "automatic") the agents fail over, fence and
 * re-protect by themselves: use failover/fence/reprotect on pairs with failover = "manual", or
 * when the agents cannot act (etcd lost for good, say).
 *
 * Hosts come from `--host name=address[:port]` (repeatable) with `--known-hosts` (host keys
 * are pinned: an unknown or changed key is refused) and `--key`, or from the lab (`--lab`);
 * etcd from `--etcd <url>` (repeatable) with `--etcd-ca`, `--etcd-cert` and `--etcd-key`, or from the lab.
 */
import { Command } from 'commander';
import * as fs from 'fs';
import { fence, failover } from '../colo/colo-failover';
import { inspectPair } from '../colo/colo-pair';
import { reprotect } from '../colo/colo-reprotect';
import { errorMessage, HostAddress } from '../ssh/host-errors';
import { HostKeyPolicy } from '../ssh/known-hosts';
import { SshSession } from '../ssh/ssh-session';
import { Etcd3 } from 'etcd3';
import { attachConsole } from './console';
import { readAgentStatusOn } from '../monitor/agent-install';
import { connectEtcd } from '../monitor/etcd-connection';
import { readPairEvents } from '../monitor/spec-publisher';

export interface FtHost extends HostAddress {
  user: string;
  privateKeyPath: string;
}

const HOST_OPTION = /^([a-z][a-z0-9-]{0,62})=([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/;

/** `site-a=10.0.0.11` or `site-a=10.0.0.11:2222` or `site-a=[fd00::11]:22`. */
export function parseHostOption(text: string): { name: string; address: string; port: number } {
  const m = HOST_OPTION.exec(text);
  const port = m?.[3] !== undefined ? Number(m[3]) : 22;
  if (!m || port < 1 || port > 65535) {
    throw new Error(`Invalid --host ${JSON.stringify(text)}: expected name=address[:port], e.g. site-a=10.0.0.11 or site-a=10.0.0.11:2222`);
  }
  return { name: m[1], address: m[2].replace(/^\[|\]$/g, ''), port };
}

interface GlobalOptions {
  host: string[];
  etcd: string[];
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  knownHosts?: string;
  key?: string;
  user: string;
  lab?: boolean;
  timeout: string;
}

function hostsFrom(options: GlobalOptions): { hosts: FtHost[]; knownHostsPath: string } {
  if (options.lab) {
    // The lab description (scripts/lab/description.ts) as JSON: hosts with their SSH details, and the known_hosts file.
    const lab = readLab() as {
      hosts: Array<{ name: string; address: string; sshPort: number; sshUser: string; privateKeyPath: string }>;
      knownHostsPath: string;
    };
    return {
      hosts: lab.hosts.map((h) => ({ name: h.name, address: h.address, port: h.sshPort, user: h.sshUser, privateKeyPath: h.privateKeyPath })),
      knownHostsPath: lab.knownHostsPath,
    };
  }
  if (!options.knownHosts) throw new Error('Give --known-hosts <file> (host keys are pinned, never trusted on first use), or --lab.');
  if (!options.key) throw new Error('Give --key <private key file>, or --lab.');
  if (options.host.length === 0) throw new Error('Give the hosts of the pair with --host name=address[:port] (repeatable), or --lab.');
  return { hosts: options.host.map((h) => ({ ...parseHostOption(h), user: options.user, privateKeyPath: options.key! })), knownHostsPath: options.knownHosts };
}

async function withHosts<T>(program: Command, names: string[] | 'all', use: (sessions: Map<string, SshSession>) => Promise<T>): Promise<T> {
  const options = program.opts<GlobalOptions>();
  const { hosts, knownHostsPath } = hostsFrom(options);
  const wanted = names === 'all' ? hosts : names.map((n) => hosts.find((h) => h.name === n) ?? fail(`Unknown host "${n}"; the hosts are ${hosts.map((h) => h.name).join(', ')}.`));
  const knownHosts = fs.readFileSync(knownHostsPath, 'utf8');
  const sessions = new Map<string, SshSession>();
  try {
    const connected = await Promise.allSettled(
      wanted.map((h) =>
        SshSession.connect({
          host: { name: h.name, address: h.address, port: h.port },
          username: h.user,
          privateKey: fs.readFileSync(h.privateKeyPath),
          hostKeys: HostKeyPolicy.forHost({ name: h.name, address: h.address, port: h.port }, { knownHosts, knownHostsSource: knownHostsPath }),
          connectTimeoutMs: 5000,
          defaultTimeoutMs: Number(options.timeout),
        }).then((s) => sessions.set(h.name, s)),
      ),
    );
    const failed = connected.filter((c): c is PromiseRejectedResult => c.status === 'rejected');
    // status reports what it can reach; the other commands need every host they name.
    if (failed.length > 0 && (names !== 'all' || sessions.size === 0)) throw failed[0].reason;
    for (const f of failed) console.error(`orbit-ft: ${errorMessage(f.reason).split('\n')[0]}`);
    return await use(sessions);
  } finally {
    await Promise.all([...sessions.values()].map((s) => s.close()));
  }
}

function etcdFrom(options: GlobalOptions): Etcd3 {
  if (options.lab) {
    const lab = readLab() as { etcd: { endpoints: string[]; caPath: string; clients: Record<string, { certPath: string; keyPath: string }> } };
    const provider = lab.etcd.clients.provider;
    return connectEtcd({
      endpoints: lab.etcd.endpoints,
      tls: { ca: fs.readFileSync(lab.etcd.caPath), cert: fs.readFileSync(provider.certPath), key: fs.readFileSync(provider.keyPath) },
      callTimeoutMs: 5000,
    });
  }
  if (options.etcd.length === 0) throw new Error('Give the etcd endpoints with --etcd https://host:2379 (and --etcd-ca, --etcd-cert, --etcd-key), or --lab.');
  const tls = options.etcdCa
    ? { ca: fs.readFileSync(options.etcdCa), ...(options.etcdCert && options.etcdKey ? { cert: fs.readFileSync(options.etcdCert), key: fs.readFileSync(options.etcdKey) } : {}) }
    : undefined;
  return connectEtcd({ endpoints: options.etcd, ...(tls ? { tls } : {}), callTimeoutMs: 5000 });
}

function readLab(): unknown {
  const file = `${process.env.ORBIT_LAB_DIR ?? '/run/orbit-lab'}/lab.json`;
  if (!fs.existsSync(file)) throw new Error(`No lab description at ${file}: start the lab (npm run lab -- up) or give the hosts with --host.`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function fail(message: string): never {
  throw new Error(message);
}

const session = (sessions: Map<string, SshSession>, name: string) => sessions.get(name) ?? fail(`No session to ${name}`);

export function buildProgram(): Command {
  const program = new Command('orbit-ft')
    .description("Inspect, fail over, fence and re-protect COLO fault-tolerant VM pairs; reach any VM's console")
    .option('--host <name=address[:port]>', 'a host of the pair (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--known-hosts <file>', 'OpenSSH known_hosts file with the pinned host keys')
    .option('--key <file>', 'SSH private key')
    .option('--user <name>', 'SSH user', 'root')
    .option('--lab', 'take hosts, keys and known_hosts from the lab description ($ORBIT_LAB_DIR/lab.json, default /run/orbit-lab/lab.json)')
    .option('--timeout <ms>', 'limit for each remote command', '60000')
    .option('--etcd <url>', 'an etcd endpoint (repeatable), for events', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--etcd-ca <file>', "CA certificate of etcd's servers")
    .option('--etcd-cert <file>', 'etcd client certificate')
    .option('--etcd-key <file>', 'etcd client key');

  program
    .command('status <vm>')
    .description('protection state, active host and checkpoint statistics, as JSON')
    .action((vm: string) =>
      withHosts(program, 'all', async (sessions) => {
        const state = await inspectPair([...sessions.values()], vm);
        console.log(JSON.stringify(state, null, 2));
        if (state.protection !== 'protected') process.exitCode = 3;
      }),
    );

  program
    .command('failover <vm>')
    .description('let the guest on --on carry on alone (the other side is dead or fenced)')
    .requiredOption('--on <host>', 'the surviving host')
    .option('--peer <host>', 'the lost host, if it can still be reached: refused while its guest runs')
    .action((vm: string, o: { on: string; peer?: string }) =>
      withHosts(program, [o.on, ...(o.peer ? [o.peer] : [])], async (sessions) => {
        const result = await failover(session(sessions, o.on), vm, o.peer ? { peer: session(sessions, o.peer) } : {});
        console.log(JSON.stringify(result, null, 2));
      }),
    );

  program
    .command('fence <vm>')
    .description('stop the guest on --on for good (SIGKILL; the pair record says fenced)')
    .requiredOption('--on <host>', 'the host to fence')
    .action((vm: string, o: { on: string }) =>
      withHosts(program, [o.on], async (sessions) => {
        console.log(JSON.stringify(await fence(session(sessions, o.on), vm), null, 2));
      }),
    );

  program
    .command('reprotect <vm>')
    .description('give the guest running alone on --from a new secondary on --onto')
    .requiredOption('--from <host>', 'the host running the guest')
    .requiredOption('--onto <host>', 'the new secondary')
    .action((vm: string, o: { from: string; onto: string }) =>
      withHosts(program, [o.from, o.onto], async (sessions) => {
        const result = await reprotect(session(sessions, o.from), session(sessions, o.onto), vm, { onProgress: (p) => console.error(`orbit-ft: ${p}`) });
        console.log(JSON.stringify(result, null, 2));
      }),
    );
  program
    .command('agents [vm]')
    .description("each host's failover monitor agent (release, supervisor, its view of the pairs, or of <vm>), as JSON")
    .action((vm: string | undefined) =>
      withHosts(program, 'all', async (sessions) => {
        const report: Record<string, unknown> = {};
        for (const [name, s] of sessions) {
          const status = await readAgentStatusOn(s).catch((error: unknown) => ({ error: errorMessage(error).split('\n')[0] }));
          report[name] = !status
            ? 'no agent'
            : vm && 'pairs' in status
              ? { release: status.release, supervisorRunning: status.supervisorRunning, pid: status.pid, pair: status.pairs[vm] ?? 'not watching it' }
              : status;
        }
        console.log(JSON.stringify(report, null, 2));
      }),
    );

  program
    .command('console <vm>')
    .description("the VM's serial console on --on, over SSH (Ctrl-] ends); its output is also kept in /var/lib/orbit/<vm>/serial.log there")
    .requiredOption('--on <host>', 'the host the VM runs on')
    .option('--tail <lines>', 'first print the last lines of the serial log', '0')
    .action((vm: string, o: { on: string; tail: string }) =>
      withHosts(program, [o.on], async (sessions) => {
        const tailLines = Number(o.tail);
        if (!Number.isInteger(tailLines) || tailLines < 0) throw new Error(`Invalid --tail ${JSON.stringify(o.tail)}: give a number of lines, e.g. --tail 50`);
        const raw = process.stdin.isTTY;
        if (raw) process.stdin.setRawMode(true);
        try {
          const end = await attachConsole(session(sessions, o.on), vm, {
            input: process.stdin,
            output: process.stdout,
            tailLines,
            onAttached: () => console.error(`orbit-ft: connected to the console of ${vm} on ${o.on}; Ctrl-] ends`),
          });
          console.error(`\norbit-ft: ${end === 'escape' ? 'detached from the console' : 'QEMU closed the console (the VM stopped)'}`);
        } finally {
          if (raw) process.stdin.setRawMode(false);
          process.stdin.pause();
        }
      }),
    );

  program
    .command('events <vm>')
    .description('the failovers, fences and re-protections the agents recorded for <vm> in etcd, oldest first (JSON lines)')
    .action(async (vm: string) => {
      const etcd = etcdFrom(program.opts<GlobalOptions>());
      try {
        for (const event of await readPairEvents(etcd, vm)) console.log(JSON.stringify(event));
      } finally {
        etcd.close();
      }
    });
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(`orbit-ft: ${errorMessage(error)}`);
      process.exitCode = 1;
    });
}
