/**
 * Where an image comes from, on the machine terraform runs on: a local file, or an http(s) URL
 * downloaded once into a local cache (so three hosts cost one download, hosts need no route to
 * the URL, and an interrupted download resumes with an HTTP Range request). The bytes are
 * streamed, never held whole in memory, and checked against the declared sha256 before any
 * host gets them.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable, Transform } from 'stream';
import { pipeline } from 'stream/promises';
import { OrbitError } from '../framework/errors';
import { StallGuard } from './stall-guard';

/** A download that delivers no byte for this long is given up (progress, not total time, decides). */
export const IMAGE_STALL_LIMIT_MS = 60_000;

export const SHA256 = /^[0-9a-f]{64}$/;

export interface ImageSource {
  /** The file the bytes are read from (the local file itself, or the verified download). */
  readonly file: string;
  readonly sizeBytes: number;
}

export interface ResolveOptions {
  signal?: AbortSignal;
  /** Called while downloading, with the bytes so far. */
  onProgress?: (bytes: number, totalBytes: number | undefined) => void;
  /** Where downloads are kept. Default: $ORBIT_IMAGE_CACHE, else $XDG_CACHE_HOME/orbit/images, else ~/.cache/orbit/images. */
  cacheDir?: string;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

export function imageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ORBIT_IMAGE_CACHE) return env.ORBIT_IMAGE_CACHE;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'orbit', 'images');
}

/** The local file's size; a clear error when it is not a readable regular file. Nothing is read. */
export function statLocalSource(source: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch (error) {
    throw new OrbitError(`The image source ${source} cannot be read where terraform runs`, {
      attribute: 'source',
      value: source,
      detail: (error as Error).message,
      fix: `give the path of an image file on this machine (relative paths are relative to terraform's working directory ${process.cwd()}), or an http(s) URL`,
    });
  }
  if (!stat.isFile()) {
    throw new OrbitError(`The image source ${source} is not a regular file`, { attribute: 'source', value: source, fix: 'give the path of the image file itself' });
  }
  return stat.size;
}

/** The image as a local, verified file: the source file itself, or a download into the cache. */
export async function resolveImageSource(source: string, sha256: string, options: ResolveOptions = {}): Promise<ImageSource> {
  if (!isUrl(source)) {
    const sizeBytes = statLocalSource(source);
    const actual = await sha256OfFile(source, options.signal);
    if (actual !== sha256) throw mismatchError(source, sha256, actual, 'The file was not changed or deleted.');
    return { file: source, sizeBytes };
  }
  return download(source, sha256, options);
}

export async function sha256OfFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash, { signal });
  return hash.digest('hex');
}

async function download(url: string, sha256: string, options: ResolveOptions): Promise<ImageSource> {
  const dir = options.cacheDir ?? imageCacheDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const done = path.join(dir, sha256);
  if (fs.existsSync(done)) return { file: done, sizeBytes: fs.statSync(done).size };
  const partial = `${done}.partial`;
  const have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;

  const stall = new StallGuard(IMAGE_STALL_LIMIT_MS, options.signal);
  const signal = stall.signal;
  try {
    let response: Response;
    try {
      response = await fetch(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal, redirect: 'follow' });
    } catch (error) {
      throw urlError(url, stall.stalled ? `no answer within ${IMAGE_STALL_LIMIT_MS / 1000} s` : causeText(error));
    }
    // 206: the server continues where the partial file ends; 200: it sends everything again.
    const resumed = response.status === 206 && have > 0;
    if (response.status !== 200 && !resumed) {
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 416 && have > 0) {
        // The partial file is already whole (or longer than the image): check it as it is.
        return finish(url, sha256, partial, done);
      }
      throw urlError(url, `HTTP status ${response.status} ${response.statusText}`.trim());
    }
    if (!response.body) throw urlError(url, 'the response has no body');
    const length = Number(response.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length + (resumed ? have : 0) : undefined;
    let bytes = resumed ? have : 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        stall.touch();
        options.onProgress?.(bytes, total);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(response.body as import('stream/web').ReadableStream), counter, fs.createWriteStream(partial, { flags: resumed ? 'a' : 'w', mode: 0o600 }), { signal });
    } catch (error) {
      // The partial file stays: the next apply resumes it.
      throw urlError(url, stall.stalled ? `no data for ${IMAGE_STALL_LIMIT_MS / 1000} s after ${bytes} bytes (kept; the next apply resumes)` : causeText(error));
    }
    // A server that closes the connection early can end the body without an error.
    if (total !== undefined && bytes !== total) throw urlError(url, `the connection ended after ${bytes} of ${total} bytes (kept; the next apply resumes)`);
    return await finish(url, sha256, partial, done);
  } finally {
    stall.dispose();
  }
}

async function finish(url: string, sha256: string, partial: string, done: string): Promise<ImageSource> {
  const actual = await sha256OfFile(partial);
  if (actual !== sha256) {
    fs.rmSync(partial, { force: true });
    throw mismatchError(url, sha256, actual, 'The download was deleted.');
  }
  fs.renameSync(partial, done);
  return { file: done, sizeBytes: fs.statSync(done).size };
}

export function mismatchError(where: string, expected: string, actual: string, what: string): OrbitError {
  return new OrbitError(`The image from ${where} does not have the declared sha256`, {
    attribute: 'sha256',
    value: expected,
    detail: `Declared sha256 ${expected}, the bytes have sha256 ${actual}. ${what}`,
    fix: 'check that source and sha256 belong together (sha256sum FILE prints the sum); if the image was republished under the same name, take the new sum from its publisher',
  });
}

function urlError(url: string, why: string): OrbitError {
  return new OrbitError(`The image could not be downloaded from ${url}: ${why}`, {
    attribute: 'source',
    value: url,
    fix: 'check the URL from the machine terraform runs on (curl -I URL); downloads go through this machine, the hosts need no route to it',
  });
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  const message = (error as Error)?.message ?? String(error);
  return cause instanceof Error ? `${message} (${cause.message})` : message;
}
