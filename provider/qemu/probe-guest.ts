/**
 * The guest the accelerator probe boots (accelerator.ts): the Orbit test guest's kernel and
 * initramfs, which scripts/guest/build.sh (`npm run guest`) builds into `$ORBIT_CACHE/guest`,
 * by default `<repo>/.cache/guest`. The provider needs only these two files; the scripts build
 * the guest and drive it in tests (scripts/guest/guest.ts).
 */
import * as fs from 'fs';
import * as path from 'path';

export interface ProbeGuest {
  kernelPath: string;
  initrdPath: string;
}

/** `$ORBIT_CACHE`, or `.cache` in the checkout or installed provider (the same rule as the build scripts). */
export function orbitCacheDir(): string {
  if (process.env.ORBIT_CACHE) return process.env.ORBIT_CACHE;
  // From the sources (ts-node, jest) as from the compiled tree (dist/...): the first package.json up.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, '.cache');
    if (path.dirname(dir) === dir) throw new Error(`Cannot find the Orbit repository (no package.json above ${__dirname}); set ORBIT_CACHE.`);
  }
}

export function guestCacheDir(): string {
  return path.join(orbitCacheDir(), 'guest');
}

/** The probe guest's files; fails, naming the command that builds them, when they are missing. */
export function probeGuest(): ProbeGuest {
  const dir = guestCacheDir();
  const guest = { kernelPath: path.join(dir, 'vmlinuz'), initrdPath: path.join(dir, 'initramfs.cpio.gz') };
  for (const file of [guest.kernelPath, guest.initrdPath]) {
    if (!fs.existsSync(file)) throw new Error(`The test guest is not built: ${file} is missing. Run \`npm run guest\` (scripts/guest/build.sh) to build it into ${dir}.`);
  }
  return guest;
}
