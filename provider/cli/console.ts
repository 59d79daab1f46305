/**
 * A VM's serial console from where terraform runs. QEMU serves the console on a unix socket on
 * the host (one client at a time) and logs everything to serial.log whether or not anyone is
 * connected; the operator reaches the socket through the SSH connection, as QMP is reached
 * (direct-streamlocal), so nothing listens on the network. Ctrl-] ends the session, as in telnet.
 */
import { Readable, Writable } from 'stream';
import { inspectVm } from '../qemu/qemu-process';
import { vmPaths } from '../qemu/qemu-command-line';
import { OrbitError } from '../framework/errors';
import { shellQuote } from '../ssh/remote-exec';
import { SshSession } from '../ssh/ssh-session';

/** Ctrl-] */
export const CONSOLE_ESCAPE = 0x1d;

export interface ConsoleOptions {
  /** Keystrokes for the guest (raw bytes; a Ctrl-] among them ends the session instead). */
  input: Readable;
  /** What the guest writes to its serial port. */
  output: Writable;
  /** Lines of serial.log to print before attaching: what the guest said while nobody was connected. Default 0. */
  tailLines?: number;
  /** Called once the console is connected. */
  onAttached?: () => void;
}

/** How the session ended: the operator pressed Ctrl-] (or its input ended), or QEMU closed the console (the VM stopped). */
export type ConsoleEnd = 'escape' | 'closed';

export async function attachConsole(session: SshSession, vm: string, options: ConsoleOptions): Promise<ConsoleEnd> {
  const paths = vmPaths(vm);
  const inspection = await inspectVm(session, vm, { skipStatus: true });
  if (inspection.state !== 'running') {
    throw new OrbitError(`VM "${vm}" does not run on host "${session.host.name}": there is no console to attach to`, {
      detail: inspection.spec ? `It is defined there but powered off; its last output is in ${paths.serialLog}.` : undefined,
      fix: inspection.spec ? 'start it (running = true), or read the serial log with --tail' : 'check the VM name and the host (the VMs of a host are the directories in /run/orbit there)',
    });
  }
  const { stdout } = await session.exec(
    `[ -S ${shellQuote(paths.consoleSocket)} ] && echo socket; ${options.tailLines ? `tail -n ${Math.floor(options.tailLines)} ${shellQuote(paths.serialLog)} 2>/dev/null; ` : ''}true`,
  );
  const [first, ...tail] = stdout.split('\n');
  if (first !== 'socket') {
    throw new OrbitError(`VM "${vm}" on host "${session.host.name}" has no console socket (${paths.consoleSocket})`, {
      detail: `It was started by an Orbit release from before consoles; its output is still logged to ${paths.serialLog}.`,
      fix: 'restart it once (a planned restart: e.g. running = false, then true) to get a console',
    });
  }
  if (options.tailLines) options.output.write(tail.join('\n'));

  const channel = await session.openStreamLocal(paths.consoleSocket);
  options.onAttached?.();
  return new Promise<ConsoleEnd>((resolve, reject) => {
    let ended = false;
    const finish = (how: ConsoleEnd, error?: unknown) => {
      if (ended) return;
      ended = true;
      options.input.off('data', onInput);
      options.input.off('end', onInputEnd);
      channel.unpipe(options.output);
      channel.end();
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(how);
    };
    const onInput = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const escape = bytes.indexOf(CONSOLE_ESCAPE);
      if (escape < 0) {
        channel.write(bytes);
        return;
      }
      if (escape > 0) channel.write(bytes.subarray(0, escape));
      finish('escape');
    };
    const onInputEnd = () => finish('escape');
    channel.pipe(options.output, { end: false });
    channel.on('close', () => finish('closed'));
    channel.on('error', (error: unknown) => finish('closed', error));
    options.input.on('data', onInput);
    options.input.on('end', onInputEnd);
  });
}
