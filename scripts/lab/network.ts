import { ip, run } from './exec';
import { HOST_VM_BRIDGE, MGMT_BRIDGE, MGMT_PREFIX, NETNS_PREFIX, VM_BRIDGE, VM_PREFIX, mgmtVethRootSide, vmVethRootSide } from './topology';
import { pollUntil } from '../../provider/ssh/poll';

/** Links and namespaces of the lab: two bridges in the root namespace, one namespace per host. */

export async function linkExists(name: string, netns?: string): Promise<boolean> {
  return (await ip(['link', 'show', 'dev', name], netns, { allowFailure: true })).code === 0;
}

export async function listNetns(): Promise<string[]> {
  const out = (await ip(['netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n && n.startsWith(NETNS_PREFIX));
}

async function ensureBridge(name: string, address: string): Promise<void> {
  if (!(await linkExists(name))) await ip(['link', 'add', name, 'type', 'bridge']);
  const addrs = (await ip(['-o', 'addr', 'show', 'dev', name])).stdout;
  if (!addrs.includes(`${address}/`)) await ip(['addr', 'add', `${address}/24`, 'dev', name]);
  await ip(['link', 'set', name, 'up']);
}

export async function ensureBridges(): Promise<void> {
  await ensureBridge(MGMT_BRIDGE, `${MGMT_PREFIX}.1`);
  await ensureBridge(VM_BRIDGE, `${VM_PREFIX}.1`);
}

export async function ensureNetns(netns: string): Promise<void> {
  if (!(await listNetns()).includes(netns)) await ip(['netns', 'add', netns]);
  await ip(['link', 'set', 'lo', 'up'], netns);
}

/** A veth from `bridge` in the root namespace to `nsSide` inside `netns`. */
async function ensureVeth(rootSide: string, bridge: string, netns: string, nsSide: string): Promise<void> {
  if (!(await linkExists(nsSide, netns))) {
    if (await linkExists(rootSide)) await ip(['link', 'del', rootSide]);
    await ip(['link', 'add', rootSide, 'type', 'veth', 'peer', 'name', nsSide, 'netns', netns]);
  }
  await ip(['link', 'set', rootSide, 'master', bridge, 'up']);
}

/** The management uplink `eth0` with the host's address. */
export async function ensureMgmtLink(name: string, netns: string, address: string): Promise<void> {
  await ensureVeth(mgmtVethRootSide(name), MGMT_BRIDGE, netns, 'eth0');
  const addrs = (await ip(['-o', 'addr', 'show', 'dev', 'eth0'], netns)).stdout;
  if (!addrs.includes(`${address}/`)) await ip(['addr', 'add', `${address}/24`, 'dev', 'eth0'], netns);
  await ip(['link', 'set', 'eth0', 'up'], netns);
}

/**
 * The VM network: `vmbr0` inside the host, uplinked by `vm0` to the shared VM bridge. The host
 * itself has `vmAddress` on it, so that it can reach guests (its own and other hosts').
 */
export async function ensureVmLink(name: string, netns: string, vmAddress: string): Promise<void> {
  await ensureVeth(vmVethRootSide(name), VM_BRIDGE, netns, 'vm0');
  if (!(await linkExists(HOST_VM_BRIDGE, netns))) await ip(['link', 'add', HOST_VM_BRIDGE, 'type', 'bridge'], netns);
  await ip(['link', 'set', 'vm0', 'master', HOST_VM_BRIDGE, 'up'], netns);
  const addrs = (await ip(['-o', 'addr', 'show', 'dev', HOST_VM_BRIDGE], netns)).stdout;
  if (!addrs.includes(`${vmAddress}/`)) await ip(['addr', 'add', `${vmAddress}/24`, 'dev', HOST_VM_BRIDGE], netns);
  await ip(['link', 'set', HOST_VM_BRIDGE, 'up'], netns);
}

/** Sets every uplink of a host namespace up or down (a cable pull, seen from the host). */
export async function setUplinks(netns: string, state: 'up' | 'down'): Promise<void> {
  for (const dev of ['eth0', 'vm0']) {
    if (await linkExists(dev, netns)) await ip(['link', 'set', dev, state], netns);
  }
}

/**
 * A partition must look like one: packets vanish and connections time out. A blackhole route
 * would fail local sends at once (EINVAL) and netfilter/dummy links are unavailable here, so the
 * dropped destinations are routed into `hole0`, one end of a veth pair whose peer is down, with
 * static neighbour entries so that no ARP failure turns the silence into an error.
 */
export const DROP_LINK = 'hole0';

export async function dropTrafficTo(netns: string, addresses: string[]): Promise<void> {
  if (!(await linkExists(DROP_LINK, netns))) {
    await ip(['link', 'add', DROP_LINK, 'type', 'veth', 'peer', 'name', 'hole1'], netns);
    await ip(['link', 'set', DROP_LINK, 'up'], netns);
  }
  for (const a of addresses) {
    await ip(['route', 'replace', `${a}/32`, 'dev', DROP_LINK], netns);
    await ip(['neigh', 'replace', a, 'lladdr', '02:00:00:00:00:01', 'dev', DROP_LINK, 'nud', 'permanent'], netns);
  }
}

export async function droppedDestinations(netns: string): Promise<string[]> {
  if (!(await linkExists(DROP_LINK, netns))) return [];
  const routes = (await ip(['route', 'show', 'dev', DROP_LINK], netns)).stdout;
  return routes
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

export async function stopDroppingTraffic(netns: string): Promise<void> {
  if (await linkExists(DROP_LINK, netns)) await ip(['link', 'del', DROP_LINK], netns);
}

export async function netnsPids(netns: string): Promise<number[]> {
  const r = await ip(['netns', 'pids', netns], undefined, { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** SIGKILLs every process in the namespace until none is left (a pulled power cord). */
export async function killAllIn(netns: string, timeoutMs = 10_000): Promise<void> {
  let pids: number[] = [];
  await pollUntil(
    `every process in ${netns} to die`,
    async () => {
      pids = await netnsPids(netns);
      if (pids.length === 0) return true;
      await run('kill', ['-9', ...pids.map(String)], { allowFailure: true });
      return undefined;
    },
    { timeoutMs, everyMs: 50, probeErrors: 'throw', timeoutError: () => new Error(`Processes ${pids.join(', ')} in ${netns} survived SIGKILL for ${timeoutMs} ms.`) },
  );
}

export async function deleteNetns(netns: string): Promise<void> {
  await killAllIn(netns);
  await ip(['netns', 'del', netns], undefined, { allowFailure: true });
}

export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await ip(['link', 'del', name]);
}
