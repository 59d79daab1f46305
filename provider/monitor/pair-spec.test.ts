import { generateKeyPairSync } from 'crypto';
import { keyIdOf, loadSigningKey, loadVerifyKey, pairKeys, PairRuntimeSpec, PairSpecError, pairSpecProblems, signPairSpec, verifyPairSpec, vmOfKey } from './pair-spec';
import { DEFAULT_TIMING } from './timing';

const host = (name: string, last: number) => ({
  name,
  sshAddress: `10.0.0.${last}`,
  sshPort: 22,
  sshUser: 'root',
  hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrbitOrbitOrbitOrbitOrbitOrbitOrbitOrbitOrbi'],
  replicationAddress: `10.1.0.${last}`,
  heartbeatAddress: `10.0.0.${last}`,
  heartbeatPort: 7410,
});

const spec: PairRuntimeSpec = { version: 1, vm: 'db', generation: 3, hosts: [host('a', 1), host('b', 2)], spareHosts: [host('c', 3)], timing: DEFAULT_TIMING };

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const key = pairKeys('db').spec;

describe('etcd key layout', () => {
  it('puts everything of a pair under /orbit/v1/pairs/<vm>/, events sortable by time', () => {
    const keys = pairKeys('db');
    expect(keys.spec).toBe('/orbit/v1/pairs/db/spec');
    expect(keys.active).toBe('/orbit/v1/pairs/db/active');
    expect(keys.event(1764057600000, 'b')).toBe('/orbit/v1/pairs/db/events/1764057600000-b');
    expect(keys.event(5, 'b') < keys.event(1764057600000, 'a')).toBe(true);
    expect(vmOfKey(keys.active)).toBe('db');
    expect(vmOfKey('/other/db/spec')).toBeUndefined();
    expect(() => pairKeys('../x')).toThrow('Invalid VM name');
  });
});

describe('pair spec validation', () => {
  it('accepts a complete spec', () => {
    expect(pairSpecProblems(spec)).toEqual([]);
  });

  it('lists every problem at once, naming the field and the value', () => {
    const bad = {
      ...spec,
      generation: 0,
      hosts: [host('a', 1), { ...host('a', 2), sshPort: 0 }],
      spareHosts: [{ ...host('c', 3), heartbeatAddress: '' }],
      timing: { ...DEFAULT_TIMING, leaseTtlMs: 1000 },
    };
    expect(pairSpecProblems(bad)).toEqual([
      'generation must be a whole number >= 1, got 0',
      'hosts[1].sshPort must be a port 1-65535, got 0',
      'hosts[1].name "a" is already hosts[0]: the pair\'s two hosts and its spares must all be different hosts',
      'spareHosts[0].heartbeatAddress must be a non-empty string without spaces, got ""',
      'timing.leaseTtlMs must be at least 2000 (etcd raises shorter leases to 1.5 election timeouts, 2 s by default), got 1000',
      'timing.heartbeatIntervalMs x heartbeatMisses + fencingDeadlineMs must be < leaseTtlMs, got 200 x 3 + 800 = 1400 >= 1000: a side that loses etcd could still serve when its lease expires and the other side takes over (two active guests). Fix: raise leaseTtlMs to 2000, or lower fencingDeadlineMs to at most 399, or lower heartbeatIntervalMs or heartbeatMisses',
    ]);
    expect(pairSpecProblems({ ...spec, hosts: [host('a', 1)] })).toContain('hosts must list exactly 2 hosts (primary, secondary), got 1');
    expect(pairSpecProblems(null)).toEqual(['the spec must be a JSON object']);
  });
});

describe('pair spec signatures (Ed25519)', () => {
  it('round-trips: signed by the provider, verified by an agent', () => {
    const stored = JSON.stringify(signPairSpec(spec, privateKey));
    expect(verifyPairSpec(Buffer.from(stored), publicKey, { key })).toEqual(spec);
  });

  it('refuses a tampered payload (a spare host moved), naming the key and the fix', () => {
    const signed = signPairSpec(spec, privateKey);
    const tampered = { ...signed, payload: signed.payload.replace('"c"', '"evil"') };
    expect(() => verifyPairSpec(JSON.stringify(tampered), publicKey, { key })).toThrow(PairSpecError);
    expect(() => verifyPairSpec(JSON.stringify(tampered), publicKey, { key })).toThrow(
      'Runtime spec at /orbit/v1/pairs/db/spec is refused:\n- its signature does not match its content (changed after signing, or signed by another key)\nFix: the provider writes this spec on apply',
    );
  });

  it('refuses a flipped signature bit, a spec re-signed with another key, and one signed by an unknown key', () => {
    const signed = signPairSpec(spec, privateKey);
    const bytes = Buffer.from(signed.signature, 'base64');
    bytes[10] ^= 1;
    expect(() => verifyPairSpec(JSON.stringify({ ...signed, signature: bytes.toString('base64') }), publicKey, { key })).toThrow('signature does not match');
    const forged = signPairSpec(spec, other.privateKey);
    expect(() => verifyPairSpec(JSON.stringify({ ...forged, keyId: signed.keyId }), publicKey, { key })).toThrow('signature does not match');
    expect(() => verifyPairSpec(JSON.stringify(forged), publicKey, { key })).toThrow(`it was signed by key "${keyIdOf(other.publicKey)}", this agent trusts key ${keyIdOf(publicKey)}`);
  });

  it("refuses a valid spec copied under another pair's key, and an older generation written back", () => {
    const stored = JSON.stringify(signPairSpec(spec, privateKey));
    expect(() => verifyPairSpec(stored, publicKey, { key: pairKeys('web').spec })).toThrow('it is the spec of VM db but was read from the key of VM web');
    expect(() => verifyPairSpec(stored, publicKey, { key, minGeneration: 4 })).toThrow('its generation 3 is older than generation 4 already seen');
    expect(verifyPairSpec(stored, publicKey, { key, minGeneration: 3 }).generation).toBe(3);
  });

  it('refuses garbage and does not sign an invalid spec', () => {
    expect(() => verifyPairSpec('not json', publicKey, { key })).toThrow('the value is not JSON');
    expect(() => verifyPairSpec('{}', publicKey, { key })).toThrow('the value has no payload and signature');
    expect(() => signPairSpec({ ...spec, spareHosts: [host('a', 1)] }, privateKey)).toThrow('spareHosts[0].name "a" is already hosts[0]');
  });

  it('loads PEM keys and refuses other key types', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const pub = publicKey.export({ type: 'spki', format: 'pem' });
    expect(keyIdOf(loadVerifyKey(pub))).toBe(keyIdOf(publicKey));
    expect(loadSigningKey(pem).asymmetricKeyType).toBe('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => loadSigningKey(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }))).toThrow('must be an Ed25519 private key, got ec');
  });
});
