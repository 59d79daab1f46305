/**
 * The QMP sequences of COLO (QEMU 7.2 docs/COLO-FT.txt), as data: what to send to which side
 * to join a pair, to fail over on either side, and to re-protect. colo-pair.ts,
 * colo-failover.ts and colo-reprotect.ts run them; keeping them here lets them be read (and
 * tested) next to the documentation they follow.
 *
 * A step may name errors that mean "already done" (`done`): failover and re-protection are
 * run again after a crash, and a filter deleted by the first attempt is then not an error.
 */
import { ColoPorts, coloIds, primaryChardevs } from './colo-command-line';
import { errorMessage } from '../ssh/host-errors';
import { QmpClient, QmpError } from '../qemu/qmp-client';
import { vmIds } from '../qemu/qemu-command-line';

export interface QmpStep {
  command: string;
  args?: Record<string, unknown>;
  /** QEMU error descriptions that mean the step's effect is already there. */
  done?: RegExp;
}

const hmp = (commandLine: string, done?: RegExp): QmpStep => ({ command: 'human-monitor-command', args: { 'command-line': commandLine }, ...(done ? { done } : {}) });
const NOT_FOUND = /not found|does not exist|does not have|No such|Cannot find device|is not a child/i;
const colo = (state: boolean) => ({ command: 'migrate-set-capabilities', args: { capabilities: [{ capability: 'x-colo', state }] } });

/** On the secondary before the primary joins: COLO capability and the NBD export of every parent disk. */
export function secondaryReadySteps(secondaryAddress: string, ports: ColoPorts, diskCount: number): QmpStep[] {
  return [
    colo(true),
    ...(diskCount > 0
      ? [
          { command: 'nbd-server-start', args: { addr: { type: 'inet', data: { host: secondaryAddress, port: String(ports.nbd) } } }, done: /already running/i },
          ...range(diskCount).map((i) => ({ command: 'nbd-server-add', args: { device: coloIds.parent(i), writable: true }, done: /already|in use/i })),
        ]
      : []),
  ];
}

/** NBD URI of the secondary's export of disk `i` (the drive-mirror target when re-protecting). */
export function secondaryExportUri(secondaryAddress: string, ports: ColoPorts, i: number): string {
  return `nbd://${secondaryAddress}:${ports.nbd}/${coloIds.parent(i)}`;
}

/** On the primary: a replication child per disk towards the secondary's export. */
export function replicationChildSteps(secondaryAddress: string, ports: ColoPorts, diskCount: number): QmpStep[] {
  return [...replicationOpenSteps(secondaryAddress, ports, diskCount), ...replicationAttachSteps(diskCount)];
}

/**
 * The replication node of each disk, connected to the secondary's export but not yet a child
 * of the disk's quorum: it sees no write until attached. Opening it (an NBD handshake, ~90 ms
 * here) can so happen while the guest still runs.
 */
export function replicationOpenSteps(secondaryAddress: string, ports: ColoPorts, diskCount: number): QmpStep[] {
  return range(diskCount).map((i) =>
    hmp(
      `drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=${secondaryAddress},file.port=${ports.nbd},` +
        `file.export=${coloIds.parent(i)},node-name=${coloIds.replication(i)}`,
    ),
  );
}

/** Each disk's replication node becomes the second child of its quorum: from here on writes go to both. */
export function replicationAttachSteps(diskCount: number): QmpStep[] {
  return range(diskCount).map((i) => ({ command: 'x-blockdev-change', args: { parent: coloIds.quorum(i), node: coloIds.replication(i) } }));
}

/** On the primary: start the COLO migration (from here on, both guests run in lock-step). */
export function coloMigrateSteps(secondaryAddress: string, ports: ColoPorts, checkpointDelayMs: number, options: { pauseBeforeSwitchover?: boolean } = {}): QmpStep[] {
  return [
    colo(true),
    // Always set, either way: capabilities outlive a migration in the same QEMU.
    { command: 'migrate-set-capabilities', args: { capabilities: [{ capability: 'pause-before-switchover', state: options.pauseBeforeSwitchover ?? false }] } },
    { command: 'migrate-set-parameters', args: { 'x-checkpoint-delay': checkpointDelayMs } },
    { command: 'migrate', args: { uri: `tcp:${secondaryAddress}:${ports.migration}` } },
  ];
}

/** "Secondary Failover": the primary is lost; the secondary's guest carries on alone. */
export function secondaryFailoverSteps(): QmpStep[] {
  const ids = coloIds;
  return [
    { command: 'nbd-server-stop', done: /not running/i },
    { command: 'x-colo-lost-heartbeat', done: /not enabled|not in COLO|feature 'colo'/i },
    // Without these the guest's output still goes to the dead primary and it stays dark.
    { command: 'object-del', args: { id: ids.secondaryOut }, done: NOT_FOUND },
    { command: 'object-del', args: { id: ids.secondaryIn }, done: NOT_FOUND },
    { command: 'chardev-remove', args: { id: ids.toPrimary }, done: NOT_FOUND },
    { command: 'chardev-remove', args: { id: ids.fromPrimary }, done: NOT_FOUND },
    ANNOUNCE_STEP,
  ];
}

/**
 * Switches learn the guest's MAC on this host at once instead of at its next packet. After a
 * Primary Failover too: a bridge that learned the MAC behind another port sends the clients'
 * frames there, and a guest that receives nothing sends nothing to correct it (colo.md).
 */
const ANNOUNCE_STEP: QmpStep = { command: 'announce-self', args: { initial: 50, max: 550, rounds: 5, step: 100 } };

/** "Primary Failover": the secondary is lost; the primary drops its replication and compare. */
export function primaryFailoverSteps(diskCount: number): QmpStep[] {
  const ids = coloIds;
  return [
    ...range(diskCount).flatMap((i) => [{ command: 'x-blockdev-change', args: { parent: ids.quorum(i), child: 'children.1' }, done: NOT_FOUND }, hmp(`drive_del ${ids.replication(i)}`, NOT_FOUND)]),
    { command: 'object-del', args: { id: ids.compare }, done: NOT_FOUND },
    { command: 'object-del', args: { id: ids.iothread }, done: NOT_FOUND },
    { command: 'object-del', args: { id: ids.filterMirror }, done: NOT_FOUND },
    { command: 'object-del', args: { id: ids.redirectorIn }, done: NOT_FOUND },
    { command: 'object-del', args: { id: ids.redirectorOut }, done: NOT_FOUND },
    { command: 'x-colo-lost-heartbeat', done: /not enabled|not in COLO|feature 'colo'/i },
    ANNOUNCE_STEP,
  ];
}

/** Re-protection on a former secondary: the primary side's sockets it never had. */
export function primaryChardevSteps(primaryAddress: string, ports: ColoPorts): QmpStep[] {
  return primaryChardevs(primaryAddress, ports).map((c) => ({
    command: 'chardev-add',
    args: {
      id: c.id,
      backend: { type: 'socket', data: { addr: { type: 'inet', data: { host: c.host, port: String(c.port) } }, server: c.server, ...(c.server ? { wait: false } : {}) } },
    },
    done: /already exists|duplicate/i,
  }));
}

/**
 * Re-protection: the primary's filters and colo-compare again. On a former secondary they go
 * in front of its filter-rewriter (`insert before rew0`), which stays in the chain.
 */
export function primaryFilterSteps(formerSecondary: boolean): QmpStep[] {
  const ids = coloIds;
  const netdev = vmIds.netdev(0);
  const position = formerSecondary ? { insert: 'before', position: `id=${ids.rewriter}` } : {};
  const exists = /already exists|duplicate/i;
  return [
    { command: 'object-add', args: { 'qom-type': 'filter-mirror', id: ids.filterMirror, ...position, netdev, queue: 'tx', outdev: ids.mirrorOut }, done: exists },
    { command: 'object-add', args: { 'qom-type': 'filter-redirector', id: ids.redirectorIn, ...position, netdev, queue: 'rx', indev: ids.compareOutServer }, done: exists },
    { command: 'object-add', args: { 'qom-type': 'filter-redirector', id: ids.redirectorOut, ...position, netdev, queue: 'rx', outdev: ids.comparePrimaryServer }, done: exists },
    { command: 'object-add', args: { 'qom-type': 'iothread', id: ids.iothread }, done: exists },
    {
      command: 'object-add',
      args: { 'qom-type': 'colo-compare', id: ids.compare, primary_in: ids.comparePrimaryIn, secondary_in: ids.compareSecondaryIn, outdev: ids.compareOut, iothread: ids.iothread },
      done: exists,
    },
  ];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** What a run of steps did: each command with its time, and those that were already done. */
export interface StepLog {
  command: string;
  ms: number;
  alreadyDone?: boolean;
}

/**
 * Runs the steps in order. A QMP error (or, for HMP commands, an output other than nothing or
 * `OK`) fails the run, unless it matches the step's `done`.
 */
export async function runQmpSteps(qmp: QmpClient, steps: QmpStep[], log: StepLog[] = [], timeoutMs = 20_000): Promise<StepLog[]> {
  for (const step of steps) {
    const started = Date.now();
    const name = step.command === 'human-monitor-command' ? String(step.args?.['command-line']).split(' ')[0] : step.command;
    let problem: string | undefined;
    try {
      const result = await qmp.execute<unknown>(step.command, step.args, { timeoutMs });
      if (step.command === 'human-monitor-command' && typeof result === 'string' && result.trim() !== '' && result.trim() !== 'OK') problem = result.trim();
    } catch (error) {
      if (!(error instanceof QmpError)) throw error;
      problem = error.desc;
    }
    if (problem !== undefined) {
      if (!step.done?.test(problem)) throw new ColoStepError(name, step, problem);
      log.push({ command: name, ms: Date.now() - started, alreadyDone: true });
      continue;
    }
    log.push({ command: name, ms: Date.now() - started });
  }
  return log;
}

/** A COLO QMP step was refused by QEMU. */
export class ColoStepError extends Error {
  constructor(
    readonly commandName: string,
    readonly step: QmpStep,
    readonly problem: string,
  ) {
    super(`QEMU refused ${commandName}${step.args ? ` ${JSON.stringify(step.args)}` : ''}: ${problem}`);
    this.name = 'ColoStepError';
  }
}

export function describeStepError(error: unknown): string {
  return errorMessage(error).split('\nFix:')[0];
}
