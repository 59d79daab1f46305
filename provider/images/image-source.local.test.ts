/** Image sources against real files and a real HTTP server on 127.0.0.1 (with Range support). */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { OrbitError } from '../framework/errors';
import { resolveImageSource } from './image-source';

const image = Buffer.alloc(3 * 1024 * 1024 + 17);
for (let i = 0; i < image.length; i++) image[i] = (i * 7919) & 0xff;
const sha = createHash('sha256').update(image).digest('hex');
const otherSha = createHash('sha256').update('something else').digest('hex');

let dir: string;
let server: http.Server;
let base: string;
const requests: Array<{ url: string; range?: string }> = [];
/** When set, the server stops after this many bytes of a full response (a cut download). */
let cutAfterBytes: number | undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url!, range: req.headers.range });
    if (req.url === '/missing.qcow2') {
      res.writeHead(404, 'Not Found').end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= image.length) {
      res.writeHead(416).end();
      return;
    }
    res.writeHead(range ? 206 : 200, { 'content-length': image.length - start });
    if (cutAfterBytes !== undefined && !range) {
      res.write(image.subarray(0, cutAfterBytes), () => res.destroy());
      return;
    }
    res.end(image.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-image-source-'));
  requests.length = 0;
  cutAfterBytes = undefined;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('takes a local file whose sum matches, and names both sums when it does not', async () => {
  const file = path.join(dir, 'disk.img');
  fs.writeFileSync(file, image);
  expect(await resolveImageSource(file, sha)).toEqual({ file, sizeBytes: image.length });
  const error = await resolveImageSource(file, otherSha).catch((e) => e);
  expect(error).toBeInstanceOf(OrbitError);
  expect(error.message).toContain('does not have the declared sha256');
  expect(error.detail).toContain(`Declared sha256 ${otherSha}, the bytes have sha256 ${sha}`);
  const missing = await resolveImageSource(path.join(dir, 'nope.img'), sha).catch((e) => e);
  expect(missing.message).toMatch(/cannot be read where terraform runs/);
});

it('downloads a URL once into the cache, verified', async () => {
  const cacheDir = path.join(dir, 'cache');
  const got = await resolveImageSource(`${base}/disk.qcow2`, sha, { cacheDir });
  expect(got).toEqual({ file: path.join(cacheDir, sha), sizeBytes: image.length });
  expect(fs.readFileSync(got.file).equals(image)).toBe(true);
  await resolveImageSource(`${base}/disk.qcow2`, sha, { cacheDir });
  expect(requests).toHaveLength(1);
});

it('resumes a cut download with a Range request', async () => {
  const cacheDir = path.join(dir, 'cache');
  cutAfterBytes = 1024 * 1024;
  const cut = await resolveImageSource(`${base}/disk.qcow2`, sha, { cacheDir }).catch((e) => e);
  expect(cut).toBeInstanceOf(OrbitError);
  expect(cut.message).toMatch(/could not be downloaded/);
  const kept = fs.statSync(path.join(cacheDir, `${sha}.partial`)).size;
  expect(kept).toBeGreaterThan(0);
  cutAfterBytes = undefined;
  const got = await resolveImageSource(`${base}/disk.qcow2`, sha, { cacheDir });
  expect(fs.readFileSync(got.file).equals(image)).toBe(true);
  expect(requests[requests.length - 1].range).toBe(`bytes=${kept}-`);
});

it('names the HTTP status of a failed download, and deletes a download with the wrong sum', async () => {
  const cacheDir = path.join(dir, 'cache');
  const notFound = await resolveImageSource(`${base}/missing.qcow2`, sha, { cacheDir }).catch((e) => e);
  expect(notFound.message).toContain('HTTP status 404 Not Found');
  const wrong = await resolveImageSource(`${base}/disk.qcow2`, otherSha, { cacheDir }).catch((e) => e);
  expect(wrong.detail).toContain(`Declared sha256 ${otherSha}, the bytes have sha256 ${sha}`);
  expect(fs.readdirSync(cacheDir)).toEqual([]);
});
