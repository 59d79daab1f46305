import * as fs from 'fs';
import * as path from 'path';
import { AcceleratorProbeResult, detectAcceleratorLocally } from '../../provider/qemu/accelerator';
import { guestArtifacts } from '../guest/guest';
import { LabDescription } from './description';

/**
 * The accelerator lab guests run with. Lab hosts share this machine's kernel and /dev/kvm, so
 * one real boot probe on the machine answers for all of them; the answer is kept for the
 * lifetime of the lab (`lab down` forgets it). ORBIT_ACCEL=kvm|tcg overrides the probe.
 */
export async function labAccelerator(lab: LabDescription): Promise<AcceleratorProbeResult> {
  const file = path.join(lab.stateDir, 'accelerator.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as AcceleratorProbeResult;
  const { kernelPath, initrdPath } = guestArtifacts();
  const forced = process.env.ORBIT_ACCEL;
  if (forced !== undefined && forced !== 'kvm' && forced !== 'tcg') {
    throw new Error(`Invalid ORBIT_ACCEL "${forced}": expected kvm or tcg (or unset, to probe by booting).`);
  }
  const result = await detectAcceleratorLocally({ kernelPath, initrdPath, ...(forced === 'tcg' ? { kvmDevicePath: '/nonexistent' } : {}) });
  if (forced === 'kvm' && result.accelerator !== 'kvm') {
    throw new Error(`ORBIT_ACCEL=kvm, but no guest boots under KVM here: ${result.kvm.reason ?? 'unknown reason'}. Unset ORBIT_ACCEL to fall back to TCG.`);
  }
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return result;
}
