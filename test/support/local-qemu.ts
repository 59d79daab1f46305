/**
 * A real, empty QEMU (`-machine none`) with its QMP on a unix socket, for QMP tests (TEST ONLY).
 * No guest, no disk: it starts in a few hundred ms and answers QMP like any VM's QEMU.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pollUntil } from '../../provider/ssh/poll';

export const QEMU = process.env.ORBIT_QEMU ?? 'qemu-system-x86_64';

export interface LocalQemu {
  readonly qmpSocket: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startLocalQemu(): Promise<LocalQemu> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-qemu-'));
  const qmpSocket = path.join(dir, 'qmp.sock');
  const child = spawn(QEMU, ['-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', `unix:${qmpSocket},server=on,wait=off`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.once('error', (error) => (stderr += `\n${error.message}`));
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8192)));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForSocket(child, qmpSocket, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { qmpSocket, pid: child.pid!, stop };
}

async function waitForSocket(child: ChildProcess, socket: string, stderr: () => string): Promise<void> {
  await pollUntil(
    `${QEMU} to create ${socket}`,
    () => {
      if (fs.existsSync(socket)) return true;
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        throw new Error(`${QEMU} exited before creating its QMP socket (is qemu-system-x86 installed?):\n${stderr()}`);
      }
      return undefined;
    },
    { timeoutMs: 15_000, everyMs: 25, probeErrors: 'throw', timeoutError: () => new Error(`${QEMU} did not create ${socket} within 15 s:\n${stderr()}`) },
  );
}
