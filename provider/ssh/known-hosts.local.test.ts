/** known_hosts parsing and the host key policy, checked against what OpenSSH's own ssh-keygen writes. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HostKeyMismatchError } from './host-errors';
import { HostKeyPolicy, KnownHosts, KnownHostsFormatError, parsePinnedKey, sha256Fingerprint } from './known-hosts';

let dir: string;
const keys: Record<string, { line: string; blob: Buffer; sshKeygenFingerprint: string }> = {};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-known-hosts-'));
  for (const [name, type] of [
    ['ed', 'ed25519'],
    ['ed2', 'ed25519'],
    ['ec', 'ecdsa'],
  ] as const) {
    const file = path.join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `comment for ${name}`, '-f', file]);
    const line = fs.readFileSync(`${file}.pub`, 'utf8').trim();
    const sshKeygenFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1];
    keys[name] = { line, blob: Buffer.from(line.split(' ')[1], 'base64'), sshKeygenFingerprint };
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const host = (address = '10.0.0.11', port = 22) => ({ name: 'site-a', address, port });
const keyPart = (name: string) => keys[name].line.split(' ').slice(0, 2).join(' ');

it('computes fingerprints exactly like ssh-keygen -l', () => {
  for (const key of Object.values(keys)) expect(sha256Fingerprint(key.blob)).toBe(key.sshKeygenFingerprint);
});

describe('KnownHosts', () => {
  it('finds plain entries, with [host]:port for ports other than 22, and comma lists', () => {
    const known = KnownHosts.parse([`# a comment`, ``, `10.0.0.11 ${keys.ed.line}`, `[10.0.0.12]:2222,site-b ${keyPart('ec')}`, `10.0.0.13 ${keyPart('ed2')}`].join('\n'));
    expect(known.keysFor('10.0.0.11', 22).map((k) => k.fingerprint)).toEqual([keys.ed.sshKeygenFingerprint]);
    expect(known.keysFor('10.0.0.12', 2222).map((k) => k.type)).toEqual(['ecdsa-sha2-nistp256']);
    expect(known.keysFor('10.0.0.12', 22)).toEqual([]);
    expect(known.keysFor('10.0.0.11', 2222)).toEqual([]);
  });

  it('matches hashed entries written by ssh-keygen -H', () => {
    const file = path.join(dir, 'hashed_known_hosts');
    fs.writeFileSync(file, `10.0.0.11 ${keyPart('ed')}\n[10.0.0.12]:2222 ${keyPart('ec')}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const content = fs.readFileSync(file, 'utf8');
    expect(content).not.toContain('10.0.0.11');
    const known = KnownHosts.parse(content, file);
    expect(known.keysFor('10.0.0.11', 22).map((k) => k.fingerprint)).toEqual([keys.ed.sshKeygenFingerprint]);
    expect(known.keysFor('10.0.0.12', 2222).map((k) => k.fingerprint)).toEqual([keys.ec.sshKeygenFingerprint]);
    expect(known.keysFor('10.0.0.13', 22)).toEqual([]);
  });

  it('understands wildcards and negation', () => {
    const known = KnownHosts.parse(`10.0.0.*,!10.0.0.66 ${keyPart('ed')}\n*.EXAMPLE.com ${keyPart('ec')}\n`);
    expect(known.keysFor('10.0.0.7', 22)).toHaveLength(1);
    expect(known.keysFor('10.0.0.66', 22)).toHaveLength(0);
    expect(known.keysFor('db.example.com', 22)).toHaveLength(1);
    expect(known.keysFor('example.com', 22)).toHaveLength(0);
  });

  it('keeps markers apart: @revoked keys and @cert-authority lines are never trusted', () => {
    const known = KnownHosts.parse(`@revoked * ${keyPart('ed2')}\n@cert-authority *.example.com ${keyPart('ec')}\n10.0.0.11 ${keyPart('ed')}\n`);
    expect(known.keysFor('10.0.0.11', 22).map((k) => k.fingerprint)).toEqual([keys.ed.sshKeygenFingerprint]);
    expect(known.revokedKeys().map((k) => k.fingerprint)).toEqual([keys.ed2.sshKeygenFingerprint]);
    expect(known.keysFor('db.example.com', 22)).toEqual([]);
    expect(known.certAuthoritiesFor('db.example.com', 22)).toBe(1);
  });

  it('rejects lines it cannot read, naming the source and line', () => {
    const bad = (content: string) => {
      try {
        KnownHosts.parse(content, '/etc/orbit/known_hosts');
      } catch (error) {
        return error as KnownHostsFormatError;
      }
      throw new Error('expected a KnownHostsFormatError');
    };
    expect(bad(`# ok\n10.0.0.11 ssh-ed25519`).message).toMatch(/^\/etc\/orbit\/known_hosts line 2: expected/);
    expect(bad(`10.0.0.11 ssh-rsa ${keys.ed.line.split(' ')[1]}`).message).toContain('the key data is for "ssh-ed25519", but the line says "ssh-rsa"');
    expect(bad(`@trusted 10.0.0.11 ${keyPart('ed')}`).message).toContain('unknown marker "@trusted"');
    expect(bad(`|1|nope 10.0.0.11 ${keyPart('ed')}`).problem).toContain('hashed host name');
    expect(bad(`10.0.0.11 ssh-ed25519 AAAA`).fix).toMatch(/ssh_host_\*_key\.pub/);
  });
});

describe('parsePinnedKey', () => {
  it('accepts a public key line (with or without comment) or a SHA256 fingerprint', () => {
    expect(parsePinnedKey(keys.ed.line)).toMatchObject({ kind: 'key', key: { type: 'ssh-ed25519', fingerprint: keys.ed.sshKeygenFingerprint } });
    expect(parsePinnedKey(`  ${keyPart('ec')}\n`)).toMatchObject({ kind: 'key', key: { type: 'ecdsa-sha2-nistp256' } });
    expect(parsePinnedKey(keys.ed.sshKeygenFingerprint)).toEqual({ kind: 'fingerprint', fingerprint: keys.ed.sshKeygenFingerprint });
  });

  it('refuses MD5 fingerprints and junk with a fix', () => {
    expect(() => parsePinnedKey('MD5:12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0')).toThrow(/MD5 fingerprints are not accepted[\s\S]*Fix: use the SHA256/);
    expect(() => parsePinnedKey('hello')).toThrow(/neither/);
    expect(() => parsePinnedKey('SHA256:tooShort')).toThrow(KnownHostsFormatError);
  });
});

describe('HostKeyPolicy', () => {
  it('trusts pinned keys and fingerprints, from known_hosts or pinned', () => {
    expect(HostKeyPolicy.forHost(host(), { pinned: [keys.ed.line] }).check(keys.ed.blob)).toBeUndefined();
    expect(HostKeyPolicy.forHost(host(), { pinned: [keys.ed.sshKeygenFingerprint] }).check(keys.ed.blob)).toBeUndefined();
    expect(HostKeyPolicy.forHost(host(), { knownHosts: `10.0.0.11 ${keys.ed.line}` }).check(keys.ed.blob)).toBeUndefined();
  });

  it('refuses a changed key, naming seen and expected fingerprints and where trust came from', () => {
    const policy = HostKeyPolicy.forHost(host(), { knownHosts: `10.0.0.11 ${keyPart('ed')}`, knownHostsSource: '/etc/orbit/known_hosts' });
    const refusal = policy.check(keys.ed2.blob)!;
    expect(refusal).toBeInstanceOf(HostKeyMismatchError);
    expect(refusal.problem).toBe('changed');
    expect(refusal.seen).toEqual({ fingerprint: keys.ed2.sshKeygenFingerprint, type: 'ssh-ed25519' });
    expect(refusal.expected).toEqual([keys.ed.sshKeygenFingerprint]);
    expect(refusal.message).toContain('site-a (10.0.0.11:22)');
    expect(refusal.message).toContain('known_hosts /etc/orbit/known_hosts');
    expect(refusal.message).toMatch(/man-in-the-middle/);
  });

  it('refuses an unknown host and a revoked key', () => {
    expect(HostKeyPolicy.forHost(host(), { knownHosts: `10.0.0.99 ${keyPart('ed')}` }).check(keys.ed.blob)?.problem).toBe('unknown');
    expect(HostKeyPolicy.forHost(host(), {}).check(keys.ed.blob)?.problem).toBe('unknown');
    const revoked = HostKeyPolicy.forHost(host(), { knownHosts: `@revoked * ${keyPart('ed')}`, pinned: [keys.ed.line] });
    expect(revoked.check(keys.ed.blob)?.problem).toBe('revoked');
  });

  it('offers only the pinned key types to the server, unless a bare fingerprint is pinned', () => {
    expect(HostKeyPolicy.forHost(host(), { pinned: [keys.ec.line] }).hostKeyAlgorithms()).toEqual(['ecdsa-sha2-nistp256']);
    expect(HostKeyPolicy.forHost(host(), { pinned: [keys.ed.sshKeygenFingerprint] }).hostKeyAlgorithms()).toBeUndefined();
  });

  it('works as an ssh2 hostVerifier, handing the refusal over', () => {
    const refusals: HostKeyMismatchError[] = [];
    const verify = HostKeyPolicy.forHost(host(), { pinned: [keys.ed.line] }).verifier((e) => refusals.push(e));
    expect(verify(keys.ed.blob)).toBe(true);
    expect(verify(keys.ec.blob)).toBe(false);
    expect(refusals.map((r) => r.seen.type)).toEqual(['ecdsa-sha2-nistp256']);
  });
});
