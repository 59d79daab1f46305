import * as fs from 'fs';
import { DEFAULT_STATE_DIR, LabDescription, readLabDescription } from './description';
import { dropTrafficTo, killAllIn, setUplinks, stopDroppingTraffic } from './network';
import { hostDirs, sshdAlive, startSshd } from './sshd';
import * as path from 'path';

/**
 * Fault controls for chaos tests. Members of partitions are lab host names or `etcd`.
 * Every fault is undone by `heal`, which also reboots killed hosts.
 */

interface Member {
  name: string;
  netns: string;
  address: string;
}

function members(lab: LabDescription): Member[] {
  return [...lab.hosts.map((h) => ({ name: h.name, netns: h.netns, address: h.address })), { name: 'etcd', netns: lab.etcd.netns, address: lab.etcd.address }];
}

function member(lab: LabDescription, name: string): Member {
  const found = members(lab).find((m) => m.name === name);
  if (!found) {
    throw new Error(
      `Unknown lab member "${name}"; the lab has ${members(lab)
        .map((m) => m.name)
        .join(', ')}.`,
    );
  }
  return found;
}

/** Pulls every network cable of a host: it keeps running but reaches nothing and nobody reaches it. */
export async function isolateHost(name: string, stateDir = DEFAULT_STATE_DIR): Promise<void> {
  const lab = readLabDescription(stateDir);
  await setUplinks(member(lab, name).netns, 'down');
}

/**
 * Splits the management network: members of `groupA` can no longer talk to members of
 * `groupB` (in either direction); all other traffic flows. Example: partition(['site-a'], ['etcd']).
 */
export async function partition(groupA: string[], groupB: string[], stateDir = DEFAULT_STATE_DIR): Promise<void> {
  const lab = readLabDescription(stateDir);
  const a = groupA.map((n) => member(lab, n));
  const b = groupB.map((n) => member(lab, n));
  const overlap = a.filter((m) => b.some((o) => o.name === m.name));
  if (overlap.length > 0) throw new Error(`A partition needs two disjoint groups; ${overlap.map((m) => m.name).join(', ')} is in both.`);
  for (const m of a)
    await dropTrafficTo(
      m.netns,
      b.map((o) => o.address),
    );
  for (const m of b)
    await dropTrafficTo(
      m.netns,
      a.map((o) => o.address),
    );
}

/** Kills every process of the host (a power cut): sshd, QEMU, agents. Its links go down until `heal`. */
export async function killHost(name: string, stateDir = DEFAULT_STATE_DIR): Promise<void> {
  const lab = readLabDescription(stateDir);
  const m = member(lab, name);
  if (name === 'etcd') throw new Error('kill-host takes a lab host; to cut etcd off, use partition or isolate.');
  await setUplinks(m.netns, 'down');
  await killAllIn(m.netns);
}

/** Undoes every fault: links up, partitions gone, killed hosts booted again (fresh /run/orbit). */
export async function heal(stateDir = DEFAULT_STATE_DIR): Promise<void> {
  const lab = readLabDescription(stateDir);
  for (const m of members(lab)) {
    await stopDroppingTraffic(m.netns);
    await setUplinks(m.netns, 'up');
  }
  for (const h of lab.hosts) {
    const dirs = hostDirs(stateDir, h.name);
    if (!(await sshdAlive(dirs))) {
      await startSshd({ name: h.name, netns: h.netns, address: h.address, port: h.sshPort, dirs, authorizedKeys: path.join(stateDir, 'authorized_keys') });
    }
  }
  if (!fs.existsSync(lab.descriptionPath)) throw new Error(`The lab description ${lab.descriptionPath} vanished while healing.`);
}
