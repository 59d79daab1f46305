/**
 * The QEMU command lines of a COLO pair (QEMU 7.2 docs/COLO-FT.txt), as additions to the VM's
 * ordinary command line (qemu-command-line.ts):
 *
 *  primary    disks wrapped in a quorum drive (a replication child joins over QMP later),
 *             filter-mirror + two filter-redirectors + colo-compare on an iothread, `-S`.
 *  secondary  disks as replication(secondary) -> active.qcow2 -> hidden.qcow2 -> the parent
 *             image, exported over NBD to the primary; redirectors from/to the primary and a
 *             filter-rewriter; `-incoming tcp:` for the COLO migration stream.
 *
 * Replication traffic (migration, NBD, packet mirror and compare) uses the hosts' addresses
 * and TCP ports derived from the VM name, so every step (and a later process) finds them
 * again without asking anyone. The active and hidden images live on the host's tmpfs
 * (/run/orbit/<vm>/): they only hold what changed since the last checkpoint.
 */
import { createHash } from 'crypto';
import { qemuValue, RUN_ROOT, STATE_ROOT, vmIds } from '../qemu/qemu-command-line';
import { VmDisk, VmSpec } from '../qemu/vm-spec';

export interface ColoPorts {
  /** The primary's filter-mirror output, read by the secondary (primary's address). */
  mirror: number;
  /** The secondary's guest output, compared by colo-compare (primary's address). */
  compareSecondary: number;
  /** Primary guest output into colo-compare (loopback on the primary). */
  comparePrimary: number;
  /** colo-compare's verdicts back into the primary's NIC (loopback on the primary). */
  compareOut: number;
  /** The COLO migration stream (secondary's address). */
  migration: number;
  /** NBD export of the secondary's disks (secondary's address). */
  nbd: number;
}

const PORT_BASE = 20_000;
const PORT_SLOTS = 1500;

/**
 * Ports from 20000 to 32000 (below Linux's ephemeral range, so outgoing connections never
 * hold them), eight per VM, chosen by a hash of the VM name.
 */
export function coloPorts(vm: string): ColoPorts {
  const slot = parseInt(createHash('sha256').update(`colo:${vm}`).digest('hex').slice(0, 8), 16) % PORT_SLOTS;
  const base = PORT_BASE + slot * 8;
  return { mirror: base, compareSecondary: base + 1, comparePrimary: base + 2, compareOut: base + 3, migration: base + 4, nbd: base + 5 };
}

/** Ids of the COLO objects, chardevs and block nodes; the QMP sequences (colo-qmp.ts) refer to them. */
export const coloIds = {
  quorum: (i: number) => `colo-disk${i}`,
  parent: (i: number) => `parent${i}`,
  secondaryChild: (i: number) => `childs${i}`,
  replication: (i: number) => `replication${i}`,
  // primary side
  mirrorOut: 'mirror0',
  compareSecondaryIn: 'compare1',
  comparePrimaryServer: 'compare0',
  comparePrimaryIn: 'compare0-0',
  compareOutServer: 'compare_out',
  compareOut: 'compare_out0',
  filterMirror: 'm0',
  redirectorIn: 'redire0',
  redirectorOut: 'redire1',
  iothread: 'iothread1',
  compare: 'comp0',
  // secondary side
  fromPrimary: 'red0',
  toPrimary: 'red1',
  secondaryIn: 'f1',
  secondaryOut: 'f2',
  rewriter: 'rew0',
} as const;

export interface ColoPaths {
  /** The pair record (colo-pair-record.ts), next to spec.json. */
  pairFile: string;
  /** QEMU's trace log of COLO events: checkpoints and pauses (QMP has no statistics in 7.2). */
  traceLog: string;
  /**
   * A second QMP monitor reserved for failover: QEMU serves one client per monitor, and a
   * failover must never wait behind an inspection or a monitor agent holding the main socket.
   */
  failoverQmpSocket: string;
  /**
   * A third QMP monitor for the host's monitor agent, which stays connected to watch the QEMU
   * (events, run state, COLO mode, whether it answers at all) without ever holding the
   * provider's or the failover's monitor.
   */
  agentQmpSocket: string;
  activeDisk: (i: number) => string;
  hiddenDisk: (i: number) => string;
}

export function coloPaths(vm: string): ColoPaths {
  const runDir = `${RUN_ROOT}/${vm}`;
  return {
    pairFile: `${STATE_ROOT}/${vm}/colo.json`,
    traceLog: `${runDir}/colo-trace.log`,
    failoverQmpSocket: `${runDir}/qmp-failover.sock`,
    agentQmpSocket: `${runDir}/qmp-agent.sock`,
    activeDisk: (i) => `${runDir}/colo-active${i}.qcow2`,
    hiddenDisk: (i) => `${runDir}/colo-hidden${i}.qcow2`,
  };
}

/** The trace events the checkpoint statistics are read from (colo-checkpoint-trace.ts). */
export const COLO_TRACE_EVENTS = ['colo_vm_state_change', 'colo_send_message', 'colo_receive_message', 'colo_failover_set_state'] as const;

/** What both sides get: the trace log, the failover monitor and the agent's monitor. */
function commonArgs(vm: string): string[] {
  const paths = coloPaths(vm);
  return [
    '-D',
    paths.traceLog,
    ...COLO_TRACE_EVENTS.flatMap((event) => ['-trace', `enable=${event}`]),
    '-chardev',
    `socket,id=qmp-failover,path=${qemuValue(paths.failoverQmpSocket)},server=on,wait=off`,
    '-mon',
    'chardev=qmp-failover,mode=control',
    '-chardev',
    `socket,id=qmp-agent,path=${qemuValue(paths.agentQmpSocket)},server=on,wait=off`,
    '-mon',
    'chardev=qmp-agent,mode=control',
  ];
}

function diskDevice(spec: VmSpec, i: number): string[] {
  const bootIndex = spec.boot.kind === 'disk' && spec.boot.diskIndex === i ? ',bootindex=1' : '';
  return ['-device', `virtio-blk-pci,id=${vmIds.diskDevice(i)},drive=${coloIds.quorum(i)}${bootIndex}`];
}

const QUORUM = 'driver=quorum,read-pattern=fifo,vote-threshold=1';

export interface PrimaryCommandLine {
  diskArgs: (disk: VmDisk, index: number) => string[];
  extraArgs: string[];
}

/** The primary: `-S`; COLO starts the guest on both sides once the secondary has the first checkpoint. */
export function primaryColoArgs(spec: VmSpec, primaryAddress: string): PrimaryCommandLine {
  const ports = coloPorts(spec.name);
  const ids = coloIds;
  const netdev = vmIds.netdev(0);
  return {
    diskArgs: (disk, i) => ['-drive', `if=none,id=${ids.quorum(i)},${QUORUM},children.0.file.filename=${qemuValue(disk.path)},children.0.driver=${disk.format}`, ...diskDevice(spec, i)],
    extraArgs: [
      ...primaryChardevArgs(primaryAddress, ports),
      '-object',
      `filter-mirror,id=${ids.filterMirror},netdev=${netdev},queue=tx,outdev=${ids.mirrorOut}`,
      '-object',
      `filter-redirector,id=${ids.redirectorIn},netdev=${netdev},queue=rx,indev=${ids.compareOutServer}`,
      '-object',
      `filter-redirector,id=${ids.redirectorOut},netdev=${netdev},queue=rx,outdev=${ids.comparePrimaryServer}`,
      '-object',
      `iothread,id=${ids.iothread}`,
      '-object',
      `colo-compare,id=${ids.compare},primary_in=${ids.comparePrimaryIn},secondary_in=${ids.compareSecondaryIn},outdev=${ids.compareOut},iothread=${ids.iothread}`,
      '-S',
      ...commonArgs(spec.name),
    ],
  };
}

/**
 * The primary's sockets. `wait=off` everywhere (the docs wait for the secondary on compare1,
 * which would block QEMU's start, and with it QMP): the pair waits for the secondary's
 * connections over QMP (query-chardev) instead.
 */
function primaryChardevArgs(primaryAddress: string, ports: ColoPorts): string[] {
  return primaryChardevs(primaryAddress, ports).flatMap((c) => ['-chardev', `socket,id=${c.id},host=${c.host},port=${c.port}${c.server ? ',server=on,wait=off' : ''}`]);
}

/** The six sockets of the primary side, in creation order (servers before their loopback clients). */
export function primaryChardevs(primaryAddress: string, ports: ColoPorts): Array<{ id: string; host: string; port: number; server: boolean }> {
  const ids = coloIds;
  return [
    { id: ids.mirrorOut, host: primaryAddress, port: ports.mirror, server: true },
    { id: ids.compareSecondaryIn, host: primaryAddress, port: ports.compareSecondary, server: true },
    { id: ids.comparePrimaryServer, host: '127.0.0.1', port: ports.comparePrimary, server: true },
    { id: ids.comparePrimaryIn, host: '127.0.0.1', port: ports.comparePrimary, server: false },
    { id: ids.compareOutServer, host: '127.0.0.1', port: ports.compareOut, server: true },
    { id: ids.compareOut, host: '127.0.0.1', port: ports.compareOut, server: false },
  ];
}

export interface SecondaryCommandLine extends PrimaryCommandLine {
  incoming: string;
  /** Shell lines creating the active and hidden images (same virtual size as each disk). */
  setup: string[];
}

/** The secondary: a replica that runs only on checkpoints from the primary until a failover. */
export function secondaryColoArgs(spec: VmSpec, primaryAddress: string, secondaryAddress: string, diskSizesBytes: number[]): SecondaryCommandLine {
  const ports = coloPorts(spec.name);
  const ids = coloIds;
  const paths = coloPaths(spec.name);
  const netdev = vmIds.netdev(0);
  return {
    diskArgs: (disk, i) => [
      '-drive',
      `if=none,id=${ids.parent(i)},file.filename=${qemuValue(disk.path)},driver=${disk.format}`,
      '-drive',
      `if=none,id=${ids.secondaryChild(i)},driver=replication,mode=secondary,top-id=${ids.quorum(i)},` +
        `file.driver=qcow2,file.file.filename=${qemuValue(paths.activeDisk(i))},` +
        `file.backing.driver=qcow2,file.backing.file.filename=${qemuValue(paths.hiddenDisk(i))},file.backing.backing=${ids.parent(i)}`,
      '-drive',
      `if=none,id=${ids.quorum(i)},${QUORUM},children.0=${ids.secondaryChild(i)}`,
      ...diskDevice(spec, i),
    ],
    extraArgs: [
      '-chardev',
      `socket,id=${ids.fromPrimary},host=${primaryAddress},port=${ports.mirror},reconnect=1`,
      '-chardev',
      `socket,id=${ids.toPrimary},host=${primaryAddress},port=${ports.compareSecondary},reconnect=1`,
      '-object',
      `filter-redirector,id=${ids.secondaryIn},netdev=${netdev},queue=tx,indev=${ids.fromPrimary}`,
      '-object',
      `filter-redirector,id=${ids.secondaryOut},netdev=${netdev},queue=rx,outdev=${ids.toPrimary}`,
      '-object',
      `filter-rewriter,id=${ids.rewriter},netdev=${netdev},queue=all`,
      ...commonArgs(spec.name),
    ],
    incoming: `tcp:${secondaryAddress}:${ports.migration}`,
    setup: spec.disks.flatMap((_, i) => [
      `rm -f ${paths.activeDisk(i)} ${paths.hiddenDisk(i)}`,
      `qemu-img create -q -f qcow2 ${paths.activeDisk(i)} ${diskSizesBytes[i]}`,
      `qemu-img create -q -f qcow2 ${paths.hiddenDisk(i)} ${diskSizesBytes[i]}`,
    ]),
  };
}
