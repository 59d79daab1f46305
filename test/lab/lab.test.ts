import { HostKeyMismatchError, HostUnreachableError } from '../../provider/ssh/host-errors';
import { SshSession } from '../../provider/ssh/ssh-session';
import { readGuestReport, waitForGuestReport } from '../../scripts/guest/guest';
import { LabDescription } from '../../scripts/lab/description';
import { heal, isolateHost, killHost, partition } from '../../scripts/lab/faults';
import { labDown, labLeftovers, labStatus, labUp } from '../../scripts/lab/lab';
import { labAccelerator } from '../../scripts/lab/lab-accelerator';
import { LabGuest, removeLabGuest, startLabGuest } from '../../scripts/lab/lab-guest';
import { connectToLabHost, labHost } from '../../scripts/lab/lab-ssh';
import { setTimeout as sleep } from 'timers/promises';

/**
 * The foundation end to end: lab up, pinned-key SSH into every host, the test guest booted on
 * every host and reached from another host, a host killed and healed, partitions, and a
 * `down` that leaves nothing behind.
 */

jest.setTimeout(180_000);

let lab: LabDescription;
const sessions = new Map<string, SshSession>();
const guests: LabGuest[] = [];

async function ssh(name: string): Promise<SshSession> {
  const existing = sessions.get(name);
  if (existing?.isOpen) return existing;
  const session = await connectToLabHost(lab, name);
  sessions.set(name, session);
  return session;
}

async function forget(name: string): Promise<void> {
  await sessions
    .get(name)
    ?.close()
    .catch(() => undefined);
  sessions.delete(name);
}

/** One line from the guest's TCP service, read from inside lab host `from`. */
async function reportSeenFrom(from: string, guestIp: string): Promise<string> {
  const session = await ssh(from);
  const { stdout } = await session.exec(`timeout 5 bash -c 'exec 3<>/dev/tcp/${guestIp}/7000; cat <&3'`, { timeoutMs: 10_000 });
  return stdout.trim();
}

beforeAll(async () => {
  const started = Date.now();
  lab = await labUp();
  await heal(); // a fault left by an interrupted earlier run must not leak into this one
  console.log(`lab up: ${Date.now() - started} ms`);
});

afterAll(async () => {
  for (const s of sessions.values()) await s.close().catch(() => undefined);
});

test('every host answers SSH with its own pinned host key, hostname and private /run/orbit', async () => {
  for (const host of lab.hosts) {
    const session = await ssh(host.name);
    const { stdout } = await session.exec('hostname; findmnt -n -o FSTYPE /run/orbit; ip -o -4 addr show eth0 | wc -l');
    expect(stdout.trim().split('\n')).toEqual([host.name, 'tmpfs', '1']);
  }
});

test('a wrong host key is refused, never accepted', async () => {
  const [a, b] = lab.hosts;
  await expect(connectToLabHost(lab, a.name, { pinnedHostKey: b.hostKey })).rejects.toBeInstanceOf(HostKeyMismatchError);
});

test('etcd answers every host over TLS with its own client certificate, and refuses a client without one', async () => {
  expect(lab.etcd.endpoints.every((e) => e.startsWith('https://'))).toBe(true);
  for (const host of lab.hosts) {
    const session = await ssh(host.name);
    const client = lab.etcd.clients[host.name];
    const etcdctl = `ETCDCTL_API=3 etcdctl --endpoints=${lab.etcd.endpoints.join(',')} --dial-timeout=3s --command-timeout=5s --cacert=${lab.etcd.caPath}`;
    const { stdout } = await session.exec(`${etcdctl} --cert=${client.certPath} --key=${client.keyPath} put /orbit/lab/${host.name} ok`);
    expect(stdout.trim()).toBe('OK');
    const refused = await session.exec(`${etcdctl.replace('--dial-timeout=3s', '--dial-timeout=1s')} put /orbit/lab/${host.name} no-certificate`, { allowFailure: true });
    expect(refused.code).not.toBe(0);
  }
});

test('the test guest boots on every host and is reached from another host', async () => {
  const accel = await labAccelerator(lab);
  console.log(`accelerator: ${accel.accelerator} (kvm: ${accel.kvm.ok ? 'ok' : accel.kvm.reason}); probe ${accel.probeMs} ms`);
  const started = Date.now();
  await Promise.all(
    lab.hosts.map(async (host, i) => {
      const guest = await startLabGuest(await ssh(host.name), host, { name: `g${i}`, ip: lab.network.guestAddresses[i], accel: accel.accelerator });
      guests.push(guest);
      await waitForGuestReport(guest.ip, 7000, 60_000);
    }),
  );
  console.log(`${lab.hosts.length} guests booted (${accel.accelerator}) and answering in ${Date.now() - started} ms`);

  for (const [i, guest] of guests.entries()) {
    const other = lab.hosts[(i + 1) % lab.hosts.length].name;
    const line = await reportSeenFrom(other, guest.ip);
    expect(line).toMatch(/^counter=\d+ uptime=[\d.]+ boot=\S+ disk=\d+ prev=/);
  }
  const first = await readGuestReport(guests[0].ip, 7000, 5000);
  await sleep(1000);
  const later = await readGuestReport(guests[0].ip, 7000, 5000);
  expect(later.boot).toBe(first.boot);
  expect(later.counter).toBeGreaterThan(first.counter);
});

test('a killed host is unreachable with everything on it dead, and comes back rebooted after heal', async () => {
  const victim = labHost(lab, lab.hosts[0].name);
  const guest = guests.find((g) => g.host === victim.name)!;
  await killHost(victim.name);
  await forget(victim.name);
  expect((await labStatus()).hosts.find((h) => h.name === victim.name)?.alive).toBe(false);
  await expect(connectToLabHost(lab, victim.name, { connectTimeoutMs: 2000 })).rejects.toBeInstanceOf(HostUnreachableError);
  await expect(readGuestReport(guest.ip, 7000, 2000)).rejects.toThrow();
  // The others carry on.
  expect(await reportSeenFrom(lab.hosts[1].name, guests.find((g) => g.host === lab.hosts[1].name)!.ip)).toMatch(/^counter=/);

  await heal();
  const session = await ssh(victim.name);
  const { stdout } = await session.exec('hostname; ls -A /run/orbit | wc -l; ls /var/lib/orbit/lab-guests');
  // /run/orbit is fresh (a reboot); /var/lib/orbit is the host's disk and survives.
  expect(stdout.trim().split('\n')).toEqual([victim.name, '0', guest.name]);
});

test('partition and isolate cut exactly what they say, silently, until heal', async () => {
  const [a, b, c] = lab.hosts.map((h) => h.name);
  const probe = (from: string, address: string, port: number) =>
    ssh(from).then((s) => s.exec(`timeout 2 bash -c '</dev/tcp/${address}/${port}' && echo open || echo cut`, { timeoutMs: 10_000 }).then((r) => r.stdout.trim()));

  await partition([a], ['etcd']);
  expect(await probe(a, lab.etcd.address, 2379)).toBe('cut');
  expect(await probe(b, lab.etcd.address, 2379)).toBe('open');
  expect(await probe(a, labHost(lab, b).address, 22)).toBe('open');

  await partition([a], [b]);
  expect(await probe(a, labHost(lab, b).address, 22)).toBe('cut');
  expect(await probe(b, labHost(lab, a).address, 22)).toBe('cut');
  expect(await probe(c, labHost(lab, a).address, 22)).toBe('open');

  await isolateHost(c);
  await expect(connectToLabHost(lab, c, { connectTimeoutMs: 2000 })).rejects.toBeInstanceOf(HostUnreachableError);

  await heal();
  await forget(c);
  expect(await probe(a, lab.etcd.address, 2379)).toBe('open');
  expect(await probe(a, labHost(lab, b).address, 22)).toBe('open');
  expect(await probe(c, labHost(lab, a).address, 22)).toBe('open');
});

test('up is idempotent and down leaves nothing behind', async () => {
  for (const guest of guests) await removeLabGuest(await ssh(guest.host), guest).catch(() => undefined);
  const again = await labUp();
  expect(again.hosts.map((h) => h.hostKey)).toEqual(lab.hosts.map((h) => h.hostKey));

  for (const s of sessions.values()) await s.close();
  sessions.clear();
  const started = Date.now();
  await labDown();
  console.log(`lab down: ${Date.now() - started} ms`);
  expect(await labLeftovers()).toEqual([]);
});
