import { createHmac } from 'crypto';
import { knownHostKeys } from './known-hosts';

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

function hashed(name: string): string {
  const salt = Buffer.from('0123456789abcdef0123');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts lookup', () => {
  test('plain names, comma lists and ports', () => {
    const content = `# comment\n10.0.0.1,site-a ssh-ed25519 ${KEY}\n[10.0.0.2]:2222 ssh-ed25519 ${KEY}\n`;
    expect(knownHostKeys(content, '10.0.0.1', 22)).toEqual([{ algorithm: 'ssh-ed25519', key: KEY }]);
    expect(knownHostKeys(content, 'site-a', 22)).toHaveLength(1);
    expect(knownHostKeys(content, '10.0.0.2', 2222)).toHaveLength(1);
    expect(knownHostKeys(content, '10.0.0.2', 22)).toHaveLength(0);
  });

  test('hashed names', () => {
    expect(knownHostKeys(`${hashed('10.0.0.9')} ssh-ed25519 ${KEY}`, '10.0.0.9', 22)).toHaveLength(1);
    expect(knownHostKeys(`${hashed('[10.0.0.9]:2200')} ssh-ed25519 ${KEY}`, '10.0.0.9', 2200)).toHaveLength(1);
    expect(knownHostKeys(`${hashed('10.0.0.9')} ssh-ed25519 ${KEY}`, '10.0.0.8', 22)).toHaveLength(0);
  });

  test('wildcards and negation; markers are not pins', () => {
    const content = `10.0.0.*,!10.0.0.5 ssh-ed25519 ${KEY}\n@revoked 10.0.0.6 ssh-ed25519 ${KEY}\n`;
    expect(knownHostKeys(content, '10.0.0.4', 22)).toHaveLength(1);
    expect(knownHostKeys(content, '10.0.0.5', 22)).toHaveLength(0);
    expect(knownHostKeys('@cert-authority * ssh-ed25519 ' + KEY, '10.0.0.6', 22)).toHaveLength(0);
  });
});
