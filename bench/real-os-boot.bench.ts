/**
 * Boot to SSH of the real OS image (scripts/real-os/build.sh), through terraform, side by side:
 * as an orbit_vm and as an orbit_ft_vm (a COLO pair from its first instruction), ROUNDS of each,
 * alternating, the same 512 MiB guest and cloud-init seed (hostname, user, pinned SSH host key,
 * static address). Per round: the apply's wall time, and from the apply's start until SSH logs
 * in with the pinned key and prints the hostname. The image is placed once (orbit_image on
 * site-a and site-b) and stays; each round creates and removes its VM. A failed round keeps the
 * guest's serial log under bench/results/. Leaves the lab up.
 */
import * as fs from 'fs';
import { vmPaths } from '../provider/qemu/qemu-command-line';
import { labColoQemu } from '../test/support/colo-guest';
import { LabTerraform, setUpLabTerraform, uniqueName } from '../test/support/lab-terraform';
import { RealOsGuest, realOsGuest, REAL_OS_IMAGE } from '../test/support/real-os-guest';
import { requiredProviders, RunResult, Workspace } from '../test/support/terraform';
import { BenchResult, median } from './bench-result';

const IP = '10.89.0.96';
const HOSTNAME = 'orbit-boot-bench';
const HOSTS = ['site-a', 'site-b'];
const ROUNDS = Number(process.env.ORBIT_BENCH_ROUNDS ?? 2);
const KINDS = ['orbit_vm', 'orbit_ft_vm'] as const;
type Kind = (typeof KINDS)[number];

interface Round {
  kind: Kind;
  applyMs: number;
  bootToSshMs: number;
}

export async function run(): Promise<BenchResult[]> {
  const guest = await realOsGuest(IP, HOSTNAME);
  const lab = await setUpLabTerraform();
  const ws = lab.workspace('');
  const name = uniqueName('bench-boot');
  const rounds: Round[] = [];
  try {
    const qemu = labColoQemu(lab.lab);
    ws.write('main.tf', `${requiredProviders}\n${lab.providerBlock({ only: HOSTS, overrides: Object.fromEntries(HOSTS.map((h) => [h, { qemu_binary: qemu }])) })}`);
    ws.write('image.tf', imageConfig(name, guest));
    ok(await ws.run(['init']));
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 900_000 }));
    console.error(`real-os boot bench: ${ROUNDS} rounds each of ${KINDS.join(' and ')}, 512 MiB, image ${REAL_OS_IMAGE}`);
    for (let i = 0; i < ROUNDS; i++) {
      for (const kind of KINDS) {
        const round = await measure(lab, ws, guest, name, kind);
        rounds.push(round);
        console.error(`  ${kind.padEnd(11)} apply ${round.applyMs} ms, apply start to SSH ${round.bootToSshMs} ms`);
      }
    }
  } finally {
    await ws.run(['destroy', '-auto-approve'], { timeoutMs: 600_000 }).catch(() => undefined);
    lab.cleanup();
    guest.cleanup();
  }
  const of = (kind: Kind) => rounds.filter((r) => r.kind === kind);
  const plain = of('orbit_vm').map((r) => r.bootToSshMs);
  const pair = of('orbit_ft_vm').map((r) => r.bootToSshMs);
  return [
    {
      name: 'real OS orbit_vm: apply start to SSH (median)',
      value: median(plain),
      unit: 'ms',
      note: `${plain.length} rounds, ${plain.join(' / ')} ms; apply ${median(of('orbit_vm').map((r) => r.applyMs))} ms`,
    },
    {
      name: 'real OS orbit_ft_vm: apply start to SSH (median)',
      value: median(pair),
      unit: 'ms',
      note: `${pair.length} rounds, ${pair.join(' / ')} ms; apply ${median(of('orbit_ft_vm').map((r) => r.applyMs))} ms`,
    },
    { name: 'ratio boot to SSH ft_vm / vm', value: Math.round((median(pair) / median(plain)) * 100) / 100, unit: 'x', note: 'same run, image, seed and memory' },
  ];
}

const ok = (result: RunResult) => {
  if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
  return result;
};

function imageConfig(name: string, guest: RealOsGuest): string {
  return `resource "orbit_image" "debian" {
  name   = "${name}-debian"
  source = "${REAL_OS_IMAGE}"
  sha256 = "${guest.imageSha256}"
  hosts  = ${JSON.stringify(HOSTS)}
}
`;
}

function vmConfig(kind: Kind, name: string, guest: RealOsGuest): string {
  const placement = kind === 'orbit_vm' ? `  host            = "site-a"\n` : `  primary_host    = "site-a"\n  secondary_host  = "site-b"\n  failover        = "manual"\n`;
  return `resource "${kind}" "boot" {
  name            = "${name}"
${placement}  memory_mib      = 512
  stop_timeout_ms = 0
${guest.vmBlocks('orbit_image.debian.path', 4096)}}
`;
}

async function measure(lab: LabTerraform, ws: Workspace, guest: RealOsGuest, name: string, kind: Kind): Promise<Round> {
  ws.write('vm.tf', vmConfig(kind, name, guest));
  const started = Date.now();
  try {
    ok(await ws.run(['apply', '-auto-approve'], { timeoutMs: 900_000 }));
    const applyMs = Date.now() - started;
    await guest.waitForSsh(lab, 'site-a', name, kind);
    return { kind, applyMs, bootToSshMs: Date.now() - started };
  } catch (error) {
    const kept = `bench/results/real-os-boot-${kind}-${Date.now()}.serial.log`;
    fs.mkdirSync('bench/results', { recursive: true });
    fs.writeFileSync(kept, (await lab.ssh('site-a', `cat ${vmPaths(name).serialLog} 2>&1`)).stdout);
    throw new Error(`${kind}: ${(error as Error).message.split('\n')[0]}; the serial log is in ${kept}`, { cause: error });
  } finally {
    ws.write('vm.tf', '');
    await ws.run(['apply', '-auto-approve'], { timeoutMs: 600_000 });
  }
}
