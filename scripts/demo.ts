import { spawn } from 'child_process';
import * as path from 'path';
import * as fs from 'fs';
import { inspectPair } from '../provider/colo/colo-pair';
import { SshSession } from '../provider/ssh/ssh-session';
import { readAgentStatusOn } from '../provider/monitor/agent-install';
import { connectEtcd } from '../provider/monitor/etcd-connection';
import { readPairEvents } from '../provider/monitor/spec-publisher';
import { GuestReport, readGuestReport, waitForGuestReport } from './guest/guest';
import { labUp } from './lab/lab';
import { labAccelerator } from './lab/lab-accelerator';
import { connectToLabHost } from './lab/lab-ssh';
import { installProvider } from './provider-install';
import { setTimeout as sleep } from 'timers/promises';
import { pollUntil } from '../provider/ssh/poll';

/**
 * The main job: the lab comes up, the provider is built and installed, `cdktf deploy` builds the
 * demo stack (stacks/demo: a HighlyAvailableVm, a COLO pair of the test guest, site-a +
 * site-b, watched by the failover monitor's agents that the deploy installs), the guest
 * answers, the primary's QEMU is killed with SIGKILL, and then this script only watches: the
 * agents fail over to the replica with the guest's state intact and re-protect the pair onto
 * the healthy host whose QEMU died. Then `cdktf destroy` (pass --keep to leave the pair running).
 */

const REPO = path.resolve(__dirname, '..');
const STACK_DIR = path.join(REPO, 'stacks/demo');
const VM = 'demo-web';
const IP = '10.89.0.60';

/** Tool output (cdktf, terraform) goes here, not to the screen: the demo shows what Orbit does. */
const LOG_DIR = path.join(REPO, '.cache/demo');
// grpc-js names the lab's etcd by its IP address in TLS, which Node reports as deprecated (DEP0123): noise here.
process.noDeprecation = true;

const step = (text: string) => console.log(`\n==> ${text}`);
const say = (text: string) => console.log(`    ${text}`);
const describe = (r: GuestReport) => `counter=${r.counter} disk=${r.disk} boot=${r.boot.slice(0, 8)} uptime=${r.uptimeS}s`;

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');

  step('Bringing the lab up: hosts as network namespaces, each with its own sshd and pinned host key; one etcd');
  let t = Date.now();
  const lab = await labUp();
  for (const h of lab.hosts) say(`${h.name.padEnd(8)} site ${h.site.padEnd(8)} ssh root@${h.address} (host key ${h.hostKey.slice(0, 28)}...)`);
  say(`QEMU on the hosts: ${lab.qemuBinary ?? 'stock qemu-system-x86_64 (no COLO build: run scripts/qemu-colo/build.sh)'} (${Date.now() - t} ms)`);
  if (!lab.qemuBinary) throw new Error('COLO needs the lab QEMU build here (TCG only); run `bash scripts/setup.sh` first');

  step('Choosing the accelerator by really booting a guest (KVM if it boots, else TCG)');
  const accel = await labAccelerator(lab);
  say(`${accel.accelerator.toUpperCase()}${accel.kvm.ok ? '' : ` (KVM: ${accel.kvm.reason})`}`);

  step('Building the orbit provider and installing it into a local filesystem mirror');
  const install = installProvider({ log: () => undefined });
  say(`orbit ${install.version} build ${install.buildHash}${install.changed ? ' (new)' : ''}: ${install.launcherPath}`);
  const env = { TF_CLI_CONFIG_FILE: install.cliConfigPath, TF_CLI_ARGS_providers_lock: `-fs-mirror=${install.mirrorDir}`, ORBIT_CACHE: path.join(REPO, '.cache') };

  step('cdktf deploy: stacks/demo, one HighlyAvailableVm (COLO primary on site-a, replica on site-b; witness site as third vote)');
  t = Date.now();
  await cdktf(['deploy', '--auto-approve'], env);
  say(`deployed in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const sessions = await Promise.all(lab.hosts.map((h) => connectToLabHost(lab, h.name)));
  const host = (name: string) => sessions.find((s) => s.host.name === name)!;
  const provider = lab.etcd.clients.provider;
  const etcd = connectEtcd({
    endpoints: lab.etcd.endpoints,
    tls: { ca: fs.readFileSync(lab.etcd.caPath), cert: fs.readFileSync(provider.certPath), key: fs.readFileSync(provider.keyPath) },
    callTimeoutMs: 5000,
  });
  try {
    const pair = await inspectPair(sessions, VM);
    say(`protection ${pair.protection}: active ${pair.activeHost}, standby ${pair.standbyHost}`);
    for (const s of sessions) {
      const status = await readAgentStatusOn(s, 5000);
      const view = status?.pairs[VM];
      say(`agent on ${s.host.name.padEnd(8)} release ${status?.release ?? '-'}: ${view ? `${view.role === 'held' ? 'holds the role' : 'stands by'}, ${view.protection}` : 'not watching this pair'}`);
    }

    step(`The guest answers at ${IP}:7000 through the primary (colo-compare releases what both sides agree on)`);
    await waitForGuestReport(IP, 7000, 120_000);
    let last = await watch(3);

    const active = pair.activeHost ?? 'site-a';
    const standby = pair.standbyHost ?? 'site-b';
    step(`Killing the primary's QEMU on ${active} (SIGKILL). From here on this script only watches: the agents act alone`);
    const polling = pollUntilAnswer();
    const killedAt = Date.now();
    await host(active).exec(`pkill -KILL --ns $$ --nslist mnt -f '^[^ ]+ -name guest=${VM},debug-threads=on( |$)'`);
    const answeredAt = await polling;
    const after = await readGuestReport(IP, 7000, 5000);
    say(`the guest answered again ${answeredAt - killedAt} ms after the kill (this script's clock: the kill, then a fresh connection every 50 ms until one is answered), now from ${standby}`);
    say(`before: ${describe(last)}`);
    say(`after:  ${describe(after)}`);
    say(after.boot === last.boot && after.counter >= last.counter ? 'same boot, counter carried on: no state lost' : 'STATE LOST: the guest restarted or its counter went back');
    last = await watch(2);

    step(`The agent on ${standby} re-protects the pair by itself (onto ${active}: only its QEMU died) while the guest keeps running`);
    t = Date.now();
    const protectedAgain = await waitProtected(host(standby), 180_000);
    say(`protected again ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill: active ${standby}, standby ${protectedAgain}`);

    step('What the agents recorded in etcd (orbit-ft events), since the kill');
    for (const event of (await readPairEvents(etcd, VM)).filter((e) => Date.parse(e.at) >= killedAt - 1000)) say(describeEvent(event));
    await watch(2);
    const now = await inspectPair(sessions, VM);
    say(`protection ${now.protection}: active ${now.activeHost}, standby ${now.standbyHost}, ${now.checkpoints?.checkpoints ?? 0} checkpoints`);
    say(`metrics: curl -s http://${lab.hosts.find((h) => h.name === standby)!.address}:9464/metrics | grep orbit_`);
  } finally {
    etcd.close();
    await Promise.all(sessions.map((s: SshSession) => s.close()));
  }

  if (keep) {
    step(
      `Leaving the pair running (--keep). Look at it with \`npm run orbit-ft -- --lab status ${VM}\`; remove it with \`cd stacks/demo && npx cdktf destroy --auto-approve\` (with the provider variables of \`npm run -s provider:install\`).`,
    );
  } else {
    step('cdktf destroy: the pair goes from every host');
    await cdktf(['destroy', '--auto-approve'], env);
  }
  console.log('\nDone.');
}

/** One agent event, with what each figure measures. */
function describeEvent(event: Record<string, unknown> & { kind: string; host: string; at: string }): string {
  const at = event.at.slice(11, 23);
  switch (event.kind) {
    case 'failover':
      return `${at} failover on ${event.host} (the ${String(event.lost)} was lost): ${String(event.reason)}; the agent's failover call took ${String(event.callMs)} ms (its decision to the pair record written; the guest runs again during it)`;
    case 'reprotect-started':
      return `${at} re-protection started on ${event.host}, onto ${String(event.onto)}`;
    case 'reprotect': {
      const phases = event.phasesMs
        ? Object.entries(event.phasesMs as Record<string, number>)
            .map(([phase, ms]) => `${phase} ${ms} ms`)
            .join(', ')
        : '';
      return `${at} re-protected onto ${String(event.onto)} in ${String(event.wallMs)} ms (${phases}); the guest was stopped ${String(event.guestStoppedMs)} ms at the switch-over`;
    }
    case 'fence':
      return `${at} fence on ${event.host}: ${String(event.reason)}`;
    default:
      return `${at} ${event.kind} on ${event.host}${event.reason ? `: ${String(event.reason)}` : ''}${event.error ? `: ${String(event.error)}` : ''}`;
  }
}

/** Waits until the agent on `active` reports the pair protected; the standby host's name. */
async function waitProtected(active: SshSession, timeoutMs: number): Promise<string> {
  let last = '';
  return pollUntil(
    'the pair to be re-protected',
    async () => {
      const view = (await readAgentStatusOn(active, 5000).catch(() => undefined))?.pairs[VM];
      const text = view ? `${view.protection}${view.reprotecting ? ` (re-protecting onto ${view.reprotecting})` : ''}` : 'no status';
      if (text !== last) say(`agent on ${active.host.name}: ${text}`);
      last = text;
      return view?.protection === 'protected' && view.peerHost ? view.peerHost : undefined;
    },
    {
      timeoutMs,
      everyMs: 250,
      probeErrors: 'throw',
      timeoutError: () => new Error(`the pair was not re-protected within ${timeoutMs / 1000} s: see /var/lib/orbit/agent/log/agent.log on ${active.host.name}`),
    },
  );
}

/** Watches the counter for `seconds`, one line per second; returns the last report. */
async function watch(seconds: number): Promise<GuestReport> {
  let report = await readGuestReport(IP, 7000, 5000);
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    report = await readGuestReport(IP, 7000, 5000);
    say(describe(report));
  }
  return report;
}

/** Asks the guest every 50 ms (each request with its own connection) until it answers; resolves with when it did. */
async function pollUntilAnswer(): Promise<number> {
  await sleep(50);
  return pollUntil(
    'the guest to answer after the failover',
    () =>
      readGuestReport(IP, 7000, 400).then(
        () => Date.now(),
        () => undefined,
      ),
    { timeoutMs: 30_000, everyMs: 50, timeoutError: () => new Error('the guest did not answer within 30 s of the failover') },
  );
}

/**
 * Runs cdktf with its output (and terraform's) in a log file: the screen gets the plan's summary
 * line and the log's path; a failure shows the log's last lines.
 */
function cdktf(args: string[], env: Record<string, string>): Promise<void> {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logPath = path.join(LOG_DIR, `cdktf-${args[0]}.log`);
  const log = fs.createWriteStream(logPath);
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO, 'node_modules/.bin/cdktf'), args, {
      cwd: STACK_DIR,
      env: { ...process.env, ...env, CI: '1', CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1', NO_COLOR: '1', FORCE_COLOR: '0', CDKTF_HOME: path.join(REPO, '.cache/cdktf-home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    const keep = (data: Buffer) => {
      log.write(data);
      text += data.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => {
      log.end();
      // eslint-disable-next-line no-control-regex
      const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
      const summary = lines.filter((l) => /(Apply|Destroy) complete!|Plan: \d+ to add/.test(l)).map((l) => l.replace(/^.*?(Apply|Destroy|Plan)/, '$1').trim());
      for (const line of [...new Set(summary)]) say(line);
      say(`(cdktf and terraform output: ${path.relative(REPO, logPath)})`);
      if (code === 0) return resolve();
      for (const line of lines.filter((l) => l.trim()).slice(-15)) say(`| ${line}`);
      reject(new Error(`cdktf ${args[0]} failed (exit ${code}); its whole output is in ${logPath}`));
    });
  });
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
