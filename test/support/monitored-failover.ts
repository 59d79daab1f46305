/**
 * Waiting for a monitored pair's guest to answer after a fault (TEST ONLY), and when it does
 * not, saying why: what each host's agent decided since the fault, its view of the pair, the
 * state of each QEMU of the pair and the tail of its guest's serial log, and the full network
 * evidence of the host that should serve. A bare "did not answer in 30 s" names nothing to fix.
 */
import { GuestReport } from '../../scripts/guest/guest';
import { SshSession } from '../../provider/ssh/ssh-session';
import { connectQmpOverSsh } from '../../provider/qemu/qmp-over-ssh';
import { coloPaths } from '../../provider/colo/colo-command-line';
import { vmPaths } from '../../provider/qemu/qemu-command-line';
import { silentGuestEvidence } from './colo-guest';
import { pollGuest } from './guest-poller';
import { agentLog, pairStatusOn } from './lab-monitor';

export interface AnswerAfterFaultOptions {
  /** The guest's address and report port. */
  readonly ip: string;
  readonly port?: number;
  /** When the fault was injected (ms, Date.now()): agent log lines from then on are evidence. */
  readonly faultAt: number;
  /** Every host of the pair and its spares. */
  readonly hosts: readonly string[];
  readonly session: (host: string) => Promise<SshSession>;
  /** How long the guest may take to answer again. */
  readonly timeoutMs: number;
  /** What the wait is for, in the error ("the guest to answer after the failover"). */
  readonly what?: string;
}

/**
 * The guest's first report to a request sent after the fault; throws with every host's evidence
 * when none came in time. Short requests keep starting (one lost to the dead side hides
 * nothing) beside a slow lane: once the pair is protected again, answers wait for checkpoints,
 * which a loaded machine spaces seconds apart.
 */
export async function guestAnswersAfterFault(vm: string, options: AnswerAfterFaultOptions): Promise<GuestReport> {
  const what = options.what ?? 'the guest to answer after the failover';
  const poller = pollGuest(options.ip, { intervalMs: 100, timeoutMs: 2000, ...(options.port !== undefined ? { port: options.port } : {}) });
  const answered = await poller.answeredSince(options.faultAt, options.timeoutMs);
  const first = (await poller.stop()).filter((s) => s.report && s.at >= options.faultAt).sort((a, b) => a.doneAt - b.doneAt)[0];
  if (answered && first?.report) return first.report;
  throw new Error(`${what} did not happen within ${options.timeoutMs} ms of the fault\n${await monitoredPairEvidence(vm, options)}`);
}

/** Per host: the agent's decisions since the fault and its view of the pair, QEMU's state, the guest's last serial lines. */
export async function monitoredPairEvidence(vm: string, options: Pick<AnswerAfterFaultOptions, 'faultAt' | 'hosts' | 'session' | 'ip'>): Promise<string> {
  const parts: string[] = [];
  let serving: SshSession | undefined;
  for (const host of options.hosts) {
    const section = async (): Promise<string> => {
      const session = await options.session(host);
      const lines = (await agentLog(session)).filter((l) => Date.parse(l.time) >= options.faultAt - 2000 && (l.vm === undefined || l.vm === vm));
      const decisions = lines.map((l) => `  ${l.time} ${l.msg.slice(0, 300)}${typeof l.reason === 'string' ? ` (${l.reason})` : ''}${typeof l.error === 'string' ? ` (${l.error})` : ''}`).join('\n');
      const status = await pairStatusOn(session, vm);
      const qemu = await qemuState(session, vm);
      if (/"running":true/.test(qemu)) serving = session;
      const serial = await session.exec(`tail -n 6 ${vmPaths(vm).serialLog} 2>&1`, { timeoutMs: 10_000 }).then(
        (r) => r.stdout.trimEnd(),
        (e: Error) => e.message,
      );
      return `${host}: agent's pair status ${JSON.stringify(status)}\n QEMU: ${qemu}\n agent log since the fault:\n${decisions || '  (nothing)'}\n serial log tail:\n${serial}`;
    };
    parts.push(await section().catch((e: Error) => `${host}: no evidence (${e.message})`));
  }
  if (serving) parts.push(`network of ${serving.host.name}, whose QEMU runs:\n${await silentGuestEvidence(serving, vm, options.ip).catch((e: Error) => e.message)}`);
  return parts.join('\n');
}

async function qemuState(session: SshSession, vm: string): Promise<string> {
  try {
    const qmp = await connectQmpOverSsh(session, coloPaths(vm).failoverQmpSocket, { label: 'evidence', timeoutMs: 5000 });
    try {
      const status = await qmp.execute('query-status');
      const colo = await qmp.execute('query-colo-status').catch((e: Error) => ({ error: e.message }));
      return `${JSON.stringify(status)} colo ${JSON.stringify(colo)}`;
    } finally {
      await qmp.close();
    }
  } catch (error) {
    return `no QMP (${(error as Error).message})`;
  }
}
