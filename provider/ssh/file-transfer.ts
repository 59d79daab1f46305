/**
 * Reading and writing whole files over SFTP.
 *
 * Writes are atomic: the data goes to a temporary file next to the target, is flushed
 * (fsync@openssh.com when the server offers it), gets its mode, and is then renamed over the
 * target with posix-rename@openssh.com. A reader sees the old file or the new one, never half.
 */
import { randomBytes } from 'crypto';
import * as path from 'path';
import type { SFTPWrapper } from 'ssh2';
import { errorMessage, HostAddress, RemoteFileError } from './host-errors';

export interface WriteFileOptions {
  /** Permission bits of the file, e.g. 0o600. Default 0o644. */
  mode?: number;
}

export async function writeFileAtomic(sftp: SFTPWrapper, host: HostAddress, file: string, data: Buffer | string, options: WriteFileOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o644;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new RangeError(`mode must be permission bits between 0 and 0o7777 (e.g. 0o600), got ${mode}`);
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const temp = path.posix.join(path.posix.dirname(file), `.${path.posix.basename(file)}.orbit-${randomBytes(6).toString('hex')}.tmp`);
  const fail = (error: unknown) => fileError(host, 'write', file, error);

  const handle = await call<Buffer>((cb) => sftp.open(temp, 'w', { mode }, cb)).catch((error) => {
    throw fail(error);
  });
  try {
    await call<void>((cb) => sftp.write(handle, bytes, 0, bytes.length, 0, cb));
    await call<void>((cb) => sftp.fchmod(handle, mode, cb));
    await fsyncIfSupported(sftp, handle);
  } catch (error) {
    await call<void>((cb) => sftp.close(handle, cb)).catch(() => undefined);
    await removeQuietly(sftp, temp);
    throw fail(error);
  }
  try {
    await call<void>((cb) => sftp.close(handle, cb));
    await call<void>((cb) => sftp.ext_openssh_rename(temp, file, cb));
  } catch (error) {
    await removeQuietly(sftp, temp);
    throw fail(error);
  }
}

export async function readRemoteFile(sftp: SFTPWrapper, host: HostAddress, file: string): Promise<Buffer> {
  try {
    return await call<Buffer>((cb) => sftp.readFile(file, cb));
  } catch (error) {
    throw fileError(host, 'read', file, error);
  }
}

async function fsyncIfSupported(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  try {
    await call<void>((cb) => sftp.ext_openssh_fsync(handle, cb));
  } catch (error) {
    // Servers without fsync@openssh.com: the rename is still atomic, only not yet durable.
    if (!/does not support/i.test((error as Error).message)) throw error;
  }
}

async function removeQuietly(sftp: SFTPWrapper, file: string): Promise<void> {
  await call<void>((cb) => sftp.unlink(file, cb)).catch(() => undefined);
}

/** Adapts ssh2's callback style; ssh2 also throws synchronously when the channel is gone. */
function call<T>(start: (cb: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      start((error, value) => (error ? reject(error) : resolve(value)));
    } catch (error) {
      reject(error);
    }
  });
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02) to the errno-like codes we expose. */
function fileError(host: HostAddress, operation: 'read' | 'write', file: string, error: unknown): RemoteFileError {
  const status = (error as { code?: unknown }).code;
  const message = errorMessage(error);
  if (status === 2) return new RemoteFileError(host, operation, file, 'no such file or directory', 'ENOENT', { cause: error });
  if (status === 3) return new RemoteFileError(host, operation, file, 'permission denied', 'EACCES', { cause: error });
  return new RemoteFileError(host, operation, file, message, 'EIO', { cause: error });
}
