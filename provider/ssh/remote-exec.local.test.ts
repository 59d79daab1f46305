/** shellQuote against the real shells commands run in on our hosts (dash as /bin/sh, and bash); exec's exit status. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { EventEmitter } from 'events';
import { Client } from 'ssh2';
import { ChannelSlots } from './channel-slots';
import { execCommand, shellQuote } from './remote-exec';

const shells = ['/bin/sh', '/bin/bash'].filter((s) => fs.existsSync(s));
const nasty = ["it's", 'a b', '$HOME', '`id`', '$(id)', '"q"', '*', '~', 'new\nline', '', '-n', '\\', ';rm -rf /', 'tab\there', 'ünïcode'];

it.each(shells)('round-trips awkward arguments through %s', (shell) => {
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${shellQuote(...nasty)}`], { encoding: 'utf8' });
  expect(out.split('\0').slice(0, -1)).toEqual(nasty);
});

it('leaves plain words readable and quotes the rest', () => {
  expect(shellQuote('qemu-img', 'info', '/var/lib/orbit/db/disk.qcow2')).toBe('qemu-img info /var/lib/orbit/db/disk.qcow2');
  expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  expect(shellQuote('')).toBe(`''`);
});

it('refuses what no shell can pass', () => {
  expect(() => shellQuote('a\0b')).toThrow(/NUL byte/);
});

/**
 * The order seen on a loaded host (ssh2's debug log, 2026-12-03): sshd's exec reply, the
 * command's output, EOF, exit status and close arrive in one read, so ssh2 emits 'exit' in the
 * same tick as it hands the channel over. A fake client replays exactly that order.
 */
it('keeps the exit status that arrives in the same read as the exec reply', async () => {
  const client = {
    exec(script: string, callback: (error: Error | undefined, channel: unknown) => void) {
      const marker = /'(orbit-exec-[0-9a-f]+-pgid:)'/.exec(script)![1];
      const channel = Object.assign(new EventEmitter(), { stderr: new EventEmitter(), end: () => undefined, close: () => undefined });
      callback(undefined, channel);
      channel.emit('exit', 3);
      setImmediate(() => {
        channel.stderr.emit('data', Buffer.from(`${marker}4242\n`));
        channel.emit('close');
      });
    },
  };
  const context = { client: client as unknown as Client, host: { name: 'fake', address: '127.0.0.1', port: 22 }, slots: new ChannelSlots(4), connectionLost: new AbortController().signal };
  const result = await execCommand(context, 'exit 3', 5000, { allowFailure: true });
  expect(result.code).toBe(3);
});
