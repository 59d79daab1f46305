/**
 * `data "orbit_host"`: facts about a configured host, read over SSH: what it is (hostname,
 * CPUs, memory, kernel), its QEMU (version, whether it has what COLO needs) and the
 * accelerator guests really run with there.
 *
 * The accelerator is decided by booting the test guest (provider/qemu/accelerator.ts), never
 * from /dev/kvm alone. The guest's kernel and initramfs are uploaded once to PROBE_DIR under
 * their sha256, and the probe's answer is cached on the host under a hash of the QEMU binary,
 * its version and the guest, so only the first read of a host pays for a boot (~14 s under TCG
 * on a lab machine); later reads take one SSH round trip.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { AttributePath } from '../protocol/attribute-path';
import { t } from '../protocol/cty-type';
import { OrbitError } from '../framework/errors';
import { ModelOf } from '../framework/model';
import { computed, optionalComputed, required, schema } from '../framework/schema-builder';
import { AcceleratorProbeError, AcceleratorProbeResult, acceleratorProbeScript, parseAcceleratorProbe } from '../qemu/accelerator';
import { RemoteHost } from '../config/host-connections';
import { shellQuote } from '../ssh/remote-exec';
import { ProbeGuest, probeGuest } from '../qemu/probe-guest';
import { defineDataSource } from '../config/provider-context';

export const PROBE_DIR = '/var/lib/orbit/probe';
/** KVM 10 s + TCG 30 s (the probe's own limits) and room for QEMU to start and stop. */
const PROBE_TIMEOUT_MS = 90_000;

export const hostDataSchema = schema({
  description: 'Facts about a host configured in the provider: hardware, kernel, QEMU and the accelerator guests run with.',
  attributes: {
    name: required(t.string, { description: 'A host configured in the provider "orbit" block (hosts { name = ... }).' }),
    qemu_binary: optionalComputed(t.string, {
      description: "The QEMU system emulator to inspect: a command on the host's PATH or an absolute path. Default: the host's qemu_binary in the provider block.",
    }),
    hostname: computed(t.string, { description: "The host's own hostname." }),
    cpus: computed(t.number, { description: 'Online CPUs.' }),
    memory_mib: computed(t.number, { description: 'Total memory in MiB (MemTotal).' }),
    kernel: computed(t.string, { description: 'Kernel release (uname -r).' }),
    qemu_version: computed(t.string, { description: 'QEMU version, e.g. "7.2.22".' }),
    colo_capable: computed(t.bool, {
      description: 'True when this QEMU has what COLO fault tolerance needs: the colo-compare object and the quorum and replication block drivers.',
    }),
    accelerator: computed(t.string, { description: '"kvm" when a guest really boots under KVM, else "tcg".' }),
    accelerator_reason: computed(t.string, { description: 'Why that accelerator: boot times, or why KVM did not work.' }),
  },
});

export type HostData = ModelOf<typeof hostDataSchema.block>;

export interface HostDataSourceOptions {
  /** Where on the host the guest files and cached answers live. Default PROBE_DIR. */
  probeDir?: string;
  /** Default: the test guest built by `npm run guest`. */
  guest?: () => ProbeGuest;
}

interface HostFacts {
  hostname: string;
  cpus: number;
  memoryMib: number;
  kernel: string;
  qemuVersionLine: string;
  coloCompare: boolean;
  blockFormats: string[];
  cacheKey: string;
  cached?: string;
  kernelPresent: boolean;
  initrdPresent: boolean;
}

export function defineHostDataSource(options: HostDataSourceOptions = {}) {
  const probeDir = options.probeDir ?? PROBE_DIR;
  const findGuest = options.guest ?? probeGuest;

  return defineDataSource({
    typeName: 'orbit_host',
    schema: hostDataSchema,
    async read({ config, provider, signal }) {
      const where: AttributePath = ['name'];
      const host = provider.remote(config.name, { attribute: where, signal });
      const qemu = config.qemu_binary ?? provider.host(config.name, where).qemuBinary;
      const guest = remoteGuest(localGuest(findGuest, where), probeDir);

      const facts = await readFacts(host, qemu, probeDir, guest);
      const probe = (facts.cached !== undefined && parseCachedProbe(facts.cached, host.name)) || (await probeAccelerator(host, qemu, probeDir, guest, facts, where));
      return {
        name: config.name,
        qemu_binary: qemu,
        hostname: facts.hostname,
        cpus: facts.cpus,
        memory_mib: facts.memoryMib,
        kernel: facts.kernel,
        qemu_version: /version (\d+\.\d+(\.\d+)?)/.exec(facts.qemuVersionLine)?.[1] ?? facts.qemuVersionLine,
        colo_capable: facts.coloCompare && ['quorum', 'replication'].every((driver) => facts.blockFormats.includes(driver)),
        accelerator: probe.accelerator,
        accelerator_reason: acceleratorReason(probe),
      };
    },
  });
}

export const hostDataSource = defineHostDataSource();

interface LocalGuestFile {
  localPath: string;
  sha256: string;
}

interface RemoteGuest {
  kernel: LocalGuestFile & { remotePath: string };
  initrd: LocalGuestFile & { remotePath: string };
}

function localGuest(findGuest: () => ProbeGuest, where: AttributePath): { kernel: LocalGuestFile; initrd: LocalGuestFile } {
  let guest: ProbeGuest;
  try {
    guest = findGuest();
  } catch (error) {
    throw new OrbitError('The accelerator probe needs the test guest, which is not built on the machine running terraform', {
      attribute: where,
      detail: (error as Error).message,
      fix: "run `npm run guest` in the Orbit checkout (it builds the guest kernel and initramfs); if terraform runs the provider from outside the checkout, set ORBIT_CACHE to the checkout's .cache directory",
    });
  }
  return { kernel: { localPath: guest.kernelPath, sha256: fileSha256(guest.kernelPath) }, initrd: { localPath: guest.initrdPath, sha256: fileSha256(guest.initrdPath) } };
}

function remoteGuest(guest: { kernel: LocalGuestFile; initrd: LocalGuestFile }, probeDir: string): RemoteGuest {
  return {
    kernel: { ...guest.kernel, remotePath: `${probeDir}/vmlinuz-${guest.kernel.sha256}` },
    initrd: { ...guest.initrd, remotePath: `${probeDir}/initramfs-${guest.initrd.sha256}.cpio.gz` },
  };
}

const hashes = new Map<string, { stamp: string; sha256: string }>();

/** sha256 of a local file, remembered while its size and mtime stay the same. */
function fileSha256(file: string): string {
  const stat = fs.statSync(file);
  const stamp = `${stat.size}:${stat.mtimeMs}`;
  const known = hashes.get(file);
  if (known?.stamp === stamp) return known.sha256;
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  hashes.set(file, { stamp, sha256 });
  return sha256;
}

/** One round trip: the host's facts, its QEMU, the cached probe answer if there is one, and which guest files it has. */
export function factsScript(qemu: string, probeDir: string, guest: RemoteGuest): string {
  return `set -u
qemu=${shellQuote(qemu)}
dir=${shellQuote(probeDir)}
kernel=${shellQuote(guest.kernel.remotePath)}
initrd=${shellQuote(guest.initrd.remotePath)}
printf 'hostname=%s\\n' "$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
printf 'cpus=%s\\n' "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
printf 'mem_kib=%s\\n' "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
printf 'kernel=%s\\n' "$(uname -r)"
if ! command -v "$qemu" >/dev/null 2>&1; then
  printf 'qemu_missing=%s\\n' "$PATH"
  exit 0
fi
version=$("$qemu" --version 2>&1 | head -n 1)
printf 'qemu_version=%s\\n' "$version"
if "$qemu" -object colo-compare,help >/dev/null 2>&1; then echo colo_compare=yes; else echo colo_compare=no; fi
printf 'block_formats=%s\\n' "$("$qemu" -drive format=help 2>/dev/null | head -n 1)"
key=$(printf '%s\\n%s\\n%s\\n%s\\n' "$(command -v "$qemu")" "$version" "$kernel" "$initrd" | sha256sum | cut -c1-32)
printf 'cache_key=%s\\n' "$key"
[ -r "$dir/accelerator-$key.json" ] && printf 'cached=%s\\n' "$(head -c 8192 "$dir/accelerator-$key.json" | tr -d '\\n')"
[ -r "$kernel" ] && echo kernel_present=yes
[ -r "$initrd" ] && echo initrd_present=yes
exit 0
`;
}

async function readFacts(host: RemoteHost, qemu: string, probeDir: string, guest: RemoteGuest): Promise<HostFacts> {
  const { stdout } = await host.exec(factsScript(qemu, probeDir, guest), { timeoutMs: 30_000 });
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1));
  }
  if (values.has('qemu_missing')) {
    throw new OrbitError(`QEMU (${qemu}) is not installed on host "${host.name}"`, {
      attribute: 'qemu_binary',
      value: qemu,
      detail: `Looked for it on the host's PATH: ${values.get('qemu_missing')}`,
      fix: 'install QEMU on the host (Debian: apt-get install qemu-system-x86), or set qemu_binary to the full path of its qemu-system-x86_64',
    });
  }
  const number = (name: string) => {
    const value = Number(values.get(name));
    if (!Number.isFinite(value)) {
      throw new OrbitError(`Host "${host.name}" did not report its ${name.replace('_', ' ')}`, {
        attribute: 'name',
        value: host.name,
        detail: `The facts script printed:\n${stdout.slice(0, 2000)}`,
        fix: 'check that the host runs Linux with /proc mounted and coreutils installed',
      });
    }
    return value;
  };
  return {
    hostname: values.get('hostname') ?? '',
    cpus: number('cpus'),
    memoryMib: Math.floor(number('mem_kib') / 1024),
    kernel: values.get('kernel') ?? '',
    qemuVersionLine: values.get('qemu_version') ?? '',
    coloCompare: values.get('colo_compare') === 'yes',
    blockFormats: (values.get('block_formats') ?? '')
      .replace(/^Supported formats:/, '')
      .trim()
      .split(/\s+/),
    cacheKey: values.get('cache_key') ?? '',
    cached: values.get('cached'),
    kernelPresent: values.has('kernel_present'),
    initrdPresent: values.has('initrd_present'),
  };
}

/** A cached answer, or undefined when it is unreadable (then the host is probed again). */
function parseCachedProbe(cached: string, hostName: string): AcceleratorProbeResult | undefined {
  try {
    return parseAcceleratorProbe({ stdout: cached, stderr: '', code: 0 }, `host "${hostName}"`);
  } catch {
    return undefined;
  }
}

/**
 * The accelerator guests run with on `host` under `qemu`: the answer cached on the host, or a
 * probe boot (whose answer is then cached). For resources that choose the accelerator for the
 * user (orbit_vm's accelerator = "auto"); `attribute` is where errors are shown.
 */
export async function acceleratorOnHost(host: RemoteHost, qemu: string, attribute: AttributePath, options: HostDataSourceOptions = {}): Promise<AcceleratorProbeResult> {
  const probeDir = options.probeDir ?? PROBE_DIR;
  const guest = remoteGuest(localGuest(options.guest ?? probeGuest, attribute), probeDir);
  const facts = await readFacts(host, qemu, probeDir, guest);
  return (facts.cached !== undefined && parseCachedProbe(facts.cached, host.name)) || probeAccelerator(host, qemu, probeDir, guest, facts, attribute);
}

async function probeAccelerator(host: RemoteHost, qemu: string, probeDir: string, guest: RemoteGuest, facts: HostFacts, attribute: AttributePath): Promise<AcceleratorProbeResult> {
  if (!/^[0-9a-f]{32}$/.test(facts.cacheKey)) {
    throw new OrbitError(`Host "${host.name}" cannot hash the probe's cache key (sha256sum missing?)`, {
      attribute,
      value: host.name,
      fix: 'install coreutils on the host',
    });
  }
  const missing = [facts.kernelPresent ? undefined : guest.kernel, facts.initrdPresent ? undefined : guest.initrd].filter((f) => f !== undefined);
  if (missing.length > 0) {
    await host.exec(`mkdir -p ${shellQuote(probeDir)}`);
    await Promise.all(missing.map((file) => host.writeFile(file.remotePath, fs.readFileSync(file.localPath), { timeoutMs: 120_000 })));
  }

  const script = acceleratorProbeScript({ kernelPath: guest.kernel.remotePath, initrdPath: guest.initrd.remotePath, qemuBinary: qemu });
  const cacheFile = `${probeDir}/accelerator-${facts.cacheKey}.json`;
  // The probe arrives on stdin; only a successful answer is kept, written by rename so readers never see half of it.
  const command = `dir=${shellQuote(probeDir)}
mkdir -p "$dir" && tmp=$(mktemp "$dir/.accelerator.XXXXXX") || exit 3
sh -s >"$tmp"
code=$?
cat "$tmp"
if [ "$code" -eq 0 ]; then mv -f "$tmp" ${shellQuote(cacheFile)}; else rm -f "$tmp"; fi
exit "$code"`;
  const output = await host.exec(command, { stdin: script, allowFailure: true, timeoutMs: PROBE_TIMEOUT_MS });
  try {
    return parseAcceleratorProbe({ stdout: output.stdout, stderr: output.stderr, code: output.code ?? -1 }, `host "${host.name}"`);
  } catch (error) {
    if (!(error instanceof AcceleratorProbeError)) throw error;
    throw new OrbitError(`Cannot tell which accelerator host "${host.name}" runs guests with`, {
      attribute,
      value: host.name,
      detail: error.message,
      fix: `check that ${qemu} starts on the host (run \`${qemu} --version\` there), then run terraform again`,
    });
  }
}

function acceleratorReason(probe: AcceleratorProbeResult): string {
  if (probe.accelerator === 'kvm') return `KVM boots the test guest in ${probe.kvm.bootMs ?? probe.bootMs} ms.`;
  return `KVM cannot run guests here: ${probe.kvm.reason ?? 'it failed'}. TCG boots the test guest in ${probe.tcg.bootMs ?? probe.bootMs} ms.`;
}
