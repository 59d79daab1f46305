/**
 * Provider benchmarks:
 *  - start time of the installed provider process, from spawn to the handshake line, the way
 *    terraform starts it (magic cookie, AutoMTLS certificate generation included); terraform
 *    starts 2-5 provider processes per command, so this is paid several times per command;
 *  - `terraform plan` wall time on an unchanged state of 50 resources of the TEST-ONLY
 *    in-memory resource, served from this process (TF_REATTACH_PROVIDERS), so it measures
 *    terraform plus the protocol and framework, not hosts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installProvider } from '../scripts/provider-install';
import { call, clientCertificate, connect, startPlugin } from '../test/support/plugin-client';
import { serveInProcess } from '../test/support/in-process-provider';
import { requiredProviders, Workspace } from '../test/support/terraform';
import { createTestProvider, TestStore } from '../test/support/test-provider';
import { spawnSync } from 'child_process';
import { BenchResult, median } from './bench-result';

export { BenchResult };

const START_RUNS = 10;
const PLAN_RUNS = 5;
const RESOURCES = 50;

export async function run(): Promise<BenchResult[]> {
  return [...(await providerStart()), ...(await planUnchanged())];
}

async function providerStart(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-bench-install-'));
  try {
    const installed = installProvider({ dir, log: () => undefined });
    const client = await clientCertificate();
    const times: number[] = [];
    for (let i = 0; i < START_RUNS; i++) {
      const plugin = await startPlugin(installed.launcherPath, [], { clientCertPem: client.certPem, env: { XDG_CACHE_HOME: path.join(dir, 'cache') } });
      times.push(plugin.startMs);
      const clients = connect(plugin.handshake, client);
      await call(clients.controller, 'Shutdown');
      await plugin.exited;
      clients.close();
    }
    const bareNode: number[] = [];
    for (let i = 0; i < START_RUNS; i++) {
      const started = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0']);
      bareNode.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return [
      { name: 'bare node start and exit (baseline)', value: round(median(bareNode)), unit: 'ms', note: `median of ${START_RUNS}` },
      {
        name: 'provider start (spawn to handshake)',
        value: round(median(times)),
        unit: 'ms',
        note: `median of ${START_RUNS}, min ${round(Math.min(...times))}, max ${round(Math.max(...times))}; node start, module loading, cached TLS certificate (first start generates it: ${round(times[0])} ms)`,
      },
      { name: 'ratio provider start / bare node', value: round(median(times) / median(bareNode)), unit: 'x' },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function planUnchanged(): Promise<BenchResult[]> {
  const provider = await serveInProcess(createTestProvider(new TestStore()));
  const ws = Workspace.create({ reattach: provider.reattach });
  try {
    const planTimes = async (count: number): Promise<number[]> => {
      ws.write('main.tf', manyItems(count));
      const apply = await ws.run(['apply', '-auto-approve']);
      if (apply.code !== 0) throw new Error(`apply failed: ${apply.output}`);
      const times: number[] = [];
      for (let i = 0; i < PLAN_RUNS; i++) {
        const started = process.hrtime.bigint();
        const plan = await ws.run(['plan', '-detailed-exitcode']);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (plan.code !== 0) throw new Error(`plan was not quiet: ${plan.output}`);
      }
      return times;
    };
    const one = await planTimes(1);
    const times = await planTimes(RESOURCES);
    return [
      { name: 'terraform plan, 1 unchanged resource (baseline)', value: round(median(one)), unit: 'ms', note: `median of ${PLAN_RUNS}` },
      {
        name: `terraform plan, ${RESOURCES} unchanged resources`,
        value: round(median(times)),
        unit: 'ms',
        note: `median of ${PLAN_RUNS}; test resource served in-process (no provider start), refresh included`,
      },
      { name: `ratio plan ${RESOURCES} / plan 1`, value: round(median(times) / median(one)), unit: 'x' },
    ];
  } finally {
    ws.remove();
    await provider.stop();
  }
}

function manyItems(count: number): string {
  return `${requiredProviders}
resource "orbit_test_item" "many" {
  count   = ${count}
  name    = "item-\${count.index}"
  content = "content \${count.index}"
  tags    = { index = "\${count.index}" }
  rule {
    port = 1000 + count.index
  }
}
`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

if (require.main === module) {
  run().then(
    (results) => console.log(JSON.stringify(results, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
