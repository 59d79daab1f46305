/**
 * Looking a host up in OpenSSH known_hosts content (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 * plain names, `[name]:port` for ports other than 22, comma-separated patterns with `*`/`?`
 * and `!negation`, and hashed names `|1|salt|hmac-sha1`. Marker lines (@cert-authority,
 * @revoked) are not pins and are skipped here.
 */
import { createHmac } from 'crypto';

export interface KnownHostKey {
  readonly algorithm: string;
  readonly key: string;
}

export function knownHostKeys(content: string, address: string, port: number): KnownHostKey[] {
  const name = port === 22 ? address : `[${address}]:${port}`;
  const keys: KnownHostKey[] = [];
  for (const rawLine of content.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, algorithm, key] = line.split(/\s+/);
    if (!hosts || !algorithm || !key) continue;
    if (hostsFieldMatches(hosts, name)) keys.push({ algorithm, key });
  }
  return keys;
}

function hostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    if (globMatches(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatches(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(name);
}
