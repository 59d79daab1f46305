/**
 * Where a VM's cloud-init seed is (TEST ONLY): on a lab host, the seed file's SHA-256 and what
 * the VM's QEMU there has open. A seed replaced since QEMU opened it reads "(deleted)": the guest
 * would still see the old one.
 */
import { seedPath } from '../../provider/qemu/cloud-init-seed';
import { LabTerraform } from './lab-terraform';

export interface SeedOnHost {
  /** SHA-256 of the seed file; undefined when there is none. */
  sha256?: string;
  /** The seed files the VM's QEMU has open, by name ("cidata.iso", or "cidata.iso (deleted)"). */
  open: string[];
}

export async function seedOnHost(lab: LabTerraform, host: string, vm: string): Promise<SeedOnHost> {
  const iso = seedPath(vm);
  const result = await lab.ssh(
    host,
    `sha256sum ${iso} 2>/dev/null | cut -c1-64; for pid in $(pgrep --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${vm},'); do ls -l /proc/$pid/fd | grep -o 'cidata.iso.*' | sed 's/^/open /'; done; true`,
  );
  const lines = result.stdout.split('\n').filter(Boolean);
  return { sha256: lines.find((l) => /^[0-9a-f]{64}$/.test(l)), open: lines.filter((l) => l.startsWith('open ')).map((l) => l.slice(5)) };
}

/** Both hosts of a pair hold the same seed and each QEMU has that very file open; returns its SHA-256. */
export async function expectSeedOnBothSides(lab: LabTerraform, hosts: [string, string], vm: string): Promise<string> {
  const [a, b] = await Promise.all(hosts.map((host) => seedOnHost(lab, host, vm)));
  expect({ [hosts[0]]: a.open, [hosts[1]]: b.open }).toEqual({ [hosts[0]]: ['cidata.iso'], [hosts[1]]: ['cidata.iso'] });
  expect(a.sha256).toBeDefined();
  expect(b.sha256).toBe(a.sha256);
  return a.sha256!;
}
