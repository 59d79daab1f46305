/**
 * Where scripts/qemu-colo/build.sh installs the lab's COLO-capable QEMU:
 * `$ORBIT_CACHE/qemu-colo/install/bin/qemu-system-x86_64` (default ORBIT_CACHE: <repo>/.cache),
 * the same rule as build.sh. Lab hosts share this machine's filesystem, so the path is valid
 * on every lab host.
 */
import * as fs from 'fs';
import * as path from 'path';
import { orbitCacheDir } from '../../provider/qemu/probe-guest';

export function qemuColoBinaryPath(): string {
  return path.join(orbitCacheDir(), 'qemu-colo', 'install', 'bin', 'qemu-system-x86_64');
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
