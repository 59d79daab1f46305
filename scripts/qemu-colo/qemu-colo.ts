/**
 * Where scripts/qemu-colo/build.sh installs the lab's COLO-capable QEMU:
 * `$ORBIT_CACHE/qemu-colo/install/bin/qemu-system-x86_64` (default ORBIT_CACHE: <repo>/.cache),
 * the same rule as build.sh. Lab hosts share this machine's filesystem, so the path is valid
 * on every lab host.
 */
import * as fs from 'fs';
import * as path from 'path';

function repoRoot(): string {
  // Works from scripts/qemu-colo/ (ts-node, jest) and from dist/scripts/qemu-colo/ (compiled).
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`Cannot find the Orbit repository (no package.json above ${__dirname}); set ORBIT_CACHE.`);
  }
}

export function qemuColoBinaryPath(): string {
  const cacheRoot = process.env.ORBIT_CACHE || path.join(repoRoot(), '.cache');
  return path.join(cacheRoot, 'qemu-colo', 'install', 'bin', 'qemu-system-x86_64');
}

/** The built binary, or undefined when build.sh has not (successfully) run. */
export function builtQemuColoBinary(): string | undefined {
  const binary = qemuColoBinaryPath();
  try {
    fs.accessSync(binary, fs.constants.X_OK);
    return binary;
  } catch {
    return undefined;
  }
}
