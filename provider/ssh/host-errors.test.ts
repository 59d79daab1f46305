/** Error classification and messages (pure; the real-sshd paths are in ssh-session.local.test.ts). */
import { classifySshError, describeHost, HostAuthenticationError, HostConnectionLostError, HostTimeoutError, HostUnreachableError, redact, RemoteCommandError } from './host-errors';

const host = { name: 'site-a', address: '10.0.0.11', port: 22 };
const ssh2Error = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);
const connecting = { host, username: 'root', phase: 'connect' as const, connectTimeoutMs: 10_000 };

it('describes a host by name and endpoint', () => {
  expect(describeHost(host)).toBe('site-a (10.0.0.11:22)');
  expect(describeHost({ name: '10.0.0.11', address: '10.0.0.11', port: 2222 })).toBe('10.0.0.11:2222');
  expect(describeHost({ name: 'v6', address: 'fd00::1', port: 22 })).toBe('v6 ([fd00::1]:22)');
});

describe('classifySshError while connecting', () => {
  it.each([
    ['ECONNREFUSED', /connection refused[\s\S]*Fix: nothing accepts connections on port 22/],
    ['EHOSTUNREACH', /no route to host[\s\S]*Fix: there is no route to 10\.0\.0\.11/],
    ['ETIMEDOUT', /connection timed out/],
    ['ENOTFOUND', /Fix: the name 10\.0\.0\.11 does not resolve/],
  ])('%s is unreachable', (code, message) => {
    const error = classifySshError(ssh2Error(`connect ${code} 10.0.0.11:22`, { level: 'client-socket', code }), connecting);
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect((error as HostUnreachableError).code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('site-a (10.0.0.11:22)');
  });

  it('a handshake that does not finish in time is unreachable, with the limit', () => {
    const error = classifySshError(ssh2Error('Timed out while waiting for handshake', { level: 'client-timeout' }), connecting);
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect(error.message).toContain('no SSH handshake within 10000 ms');
  });

  it('rejected keys are an authentication error naming the user', () => {
    const error = classifySshError(ssh2Error('All configured authentication methods failed', { level: 'client-authentication' }), connecting);
    expect(error).toBeInstanceOf(HostAuthenticationError);
    expect(error.message).toContain('refused SSH login as "root"');
    expect(error.fix).toContain('authorized_keys');
  });

  it('an encrypted key without passphrase is an authentication error with a fix', () => {
    const error = classifySshError(new Error('Cannot parse privateKey: Encrypted private OpenSSH key detected, but no passphrase given'), connecting);
    expect(error).toBeInstanceOf(HostAuthenticationError);
    expect(error.message).toContain('no passphrase given');
    expect(error.fix).toContain('passphrase');
  });
});

it('after the session is up, any error means the connection was lost', () => {
  const error = classifySshError(ssh2Error('Keepalive timeout', { level: 'client-timeout' }), { host, username: 'root', phase: 'session' });
  expect(error).toBeInstanceOf(HostConnectionLostError);
  expect(error.message).toContain('no answer to SSH keepalives');
});

it('RemoteCommandError shows the command, status and the end of stderr, secrets masked', () => {
  const stderr = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\npassword=hunter2 rejected\n';
  const error = new RemoteCommandError(host, { command: 'login --password hunter2', exitCode: 1, stdout: '', stderr, secrets: ['hunter2'] });
  expect(error.message).toContain('Command on host site-a (10.0.0.11:22) exited with code 1: login --password ***');
  expect(error.message).toContain('password=*** rejected');
  expect(error.message).not.toContain('line 10\n');
  expect(error.message).not.toContain('hunter2');
  const killed = new RemoteCommandError(host, { command: 'x', exitCode: null, signal: 'SIGKILL', stdout: '', stderr: '' });
  expect(killed.message).toContain('was killed by signal SIGKILL');
});

it('HostTimeoutError names the operation, the limit and what happened to it', () => {
  const error = new HostTimeoutError(host, 'command `sleep 99`', 500, 'its process group 42 was killed on the host');
  expect(error.message).toMatch(/^command `sleep 99` on host site-a \(10\.0\.0\.11:22\) did not finish within 500 ms; its process group 42 was killed/);
  expect(error.fix).toContain('raise its timeout');
  expect(error.name).toBe('HostTimeoutError');
});

it('redact masks every occurrence and ignores empty secrets', () => {
  expect(redact('a s b s', ['s', ''])).toBe('a *** b ***');
});
