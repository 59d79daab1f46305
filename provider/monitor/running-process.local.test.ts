import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as net from 'net';
import { anyProgram, processHoldsResources, runningPid, runningPidFromFile } from './running-process';
import { setTimeout as sleep } from 'timers/promises';

test('a running pid counts only when its command line matches', () => {
  expect(runningPid(process.pid, anyProgram)).toBe(process.pid);
  expect(runningPid(process.pid, (argv) => argv[0] === process.argv0 || argv[0] === process.execPath)).toBe(process.pid);
  expect(runningPid(process.pid, (argv) => argv.includes('certainly-not-an-argument'))).toBeUndefined();
  expect(runningPid(undefined, anyProgram)).toBeUndefined();
  expect(runningPid(-1, anyProgram)).toBeUndefined();
});

test('a zombie (exited, not reaped yet) does not count', async () => {
  // The inner sleep lives until this test kills it; its parent, once exec'd into `sleep 30`,
  // never reaps it. No timing: the child dies when told, however slow the machine.
  const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const child = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString()))));
    // Until both have exec'd `sleep`, a command line can read empty (mid-exec), and the shell,
    // not yet replaced, may still reap its child (it did once in CI): wait for both.
    const execdSleep = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep');
    while (!execdSleep(child) || !execdSleep(parent.pid!)) await sleep(10);
    expect(runningPid(child, anyProgram)).toBe(child);
    process.kill(child, 'SIGKILL');
    while (!/\) Z /.test(fs.readFileSync(`/proc/${child}/stat`, 'utf8'))) await sleep(10);
    expect(runningPid(child, anyProgram)).toBeUndefined();
  } finally {
    parent.kill('SIGKILL');
  }
});

test('a process whose main thread is a zombie still holds its ports while another thread lives', async () => {
  // Node's agent is multi-threaded: on exit its main thread can show as a zombie before the
  // others are gone, and its sockets close only with the last. Reproduced without timing: the
  // main thread exits on its own (pthread_exit) while a second thread sleeps.
  const script = [
    'import ctypes, socket, threading, time',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()',
    'print(s.getsockname()[1], flush=True)',
    'threading.Thread(target=lambda: time.sleep(60)).start()',
    'ctypes.CDLL(None).pthread_exit(None)',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const port = Number(await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString()))));
    const pid = child.pid!;
    while (!/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))) await sleep(10);
    expect(processHoldsResources(pid)).toBe(true);
    const bound = await new Promise<string>((resolve) => {
      const server = net.createServer().once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve('bound')));
    });
    expect(bound).toBe('EADDRINUSE');
    child.kill('SIGKILL');
    await exited;
    expect(processHoldsResources(pid)).toBe(false);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a pid file: missing, garbage, or a live pid', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-pid-'));
  const file = path.join(dir, 'x.pid');
  expect(runningPidFromFile(file, anyProgram)).toBeUndefined();
  fs.writeFileSync(file, 'not a pid\n');
  expect(runningPidFromFile(file, anyProgram)).toBeUndefined();
  fs.writeFileSync(file, `${process.pid}\n`);
  expect(runningPidFromFile(file, anyProgram)).toBe(process.pid);
  fs.rmSync(dir, { recursive: true, force: true });
});
