/** shellQuote against the real shells commands run in on our hosts (dash as /bin/sh, and bash). */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { shellQuote } from './remote-exec';

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
