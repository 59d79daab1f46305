/**
 * QMP to a VM on a remote host: the VM's QMP unix socket is reached through the SSH
 * connection (direct-streamlocal@openssh.com), so QMP never listens on the network and every
 * access goes through the host's SSH authentication.
 */
import { describeHost } from '../ssh/host-errors';
import { QmpClient } from './qmp-client';
import { SshSession } from '../ssh/ssh-session';

/** Connecting to a QEMU's QMP socket, and each command on it, unless a caller says otherwise. */
export const QMP_TIMEOUT_MS = 10_000;

export interface QmpOverSshOptions {
  /** Limit for opening the channel, and for the greeting and negotiation; default for commands. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Prefix for messages, e.g. `VM db`. */
  label?: string;
}

export async function connectQmpOverSsh(session: SshSession, socketPath: string, options: QmpOverSshOptions = {}): Promise<QmpClient> {
  const timeoutMs = options.timeoutMs ?? QMP_TIMEOUT_MS;
  const stream = await session.openStreamLocal(socketPath, { timeoutMs, signal: options.signal });
  const where = `${options.label ? `${options.label} on ` : ''}host ${describeHost(session.host)}, ${socketPath}`;
  const onAbort = () => stream.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await QmpClient.connect(stream, { where, timeoutMs });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
