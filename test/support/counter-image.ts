/**
 * TEST ONLY: a qcow2 disk image the test guest recognises: sector 0 holds
 * `orbit-counter <n> boot=image` (the guest reports it as `prev` at boot), every other 4 KiB
 * block a line of text, so the image is real data rather than zeros.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { sha256OfFile } from '../../provider/images/image-source';

export async function makeCounterImage(dir: string, options: { counter: number; sizeMiB: number }): Promise<{ file: string; sha256: string }> {
  const raw = path.join(dir, 'seed.raw');
  const bytes = Buffer.alloc(options.sizeMiB * 1024 * 1024);
  for (let i = 4096; i < bytes.length; i += 4096) bytes.write(`orbit image block ${i / 4096}\n`, i);
  bytes.write(`orbit-counter ${options.counter} boot=image`.padEnd(511) + '\n', 0);
  fs.writeFileSync(raw, bytes);
  const file = path.join(dir, 'base.qcow2');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, file]);
  fs.rmSync(raw);
  return { file, sha256: await sha256OfFile(file) };
}
