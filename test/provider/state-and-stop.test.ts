/**
 * State written by an older schema version is upgraded; StopProvider (terraform interrupted)
 * cancels running operations; many resources are handled concurrently.
 */
import { InProcessProvider, serveInProcess } from '../support/in-process-provider';
import { requiredProviders, Workspace } from '../support/terraform';
import { createTestProvider, Item, TestStore } from '../support/test-provider';
import { setTimeout as sleep } from 'timers/promises';

jest.setTimeout(180_000);

describe('state, interrupts and concurrency', () => {
  let store: TestStore;
  let provider: InProcessProvider;
  const workspaces: Workspace[] = [];
  const workspace = () => {
    const ws = Workspace.create({ reattach: provider.reattach });
    workspaces.push(ws);
    return ws;
  };

  beforeAll(async () => {
    store = new TestStore();
    provider = await serveInProcess(createTestProvider(store));
  });

  afterAll(async () => {
    for (const ws of workspaces) ws.remove();
    await provider.stop();
  });

  test('state from schema version 0 is upgraded (body -> content) and plans no changes', async () => {
    const ws = workspace();
    const item: Item = {
      id: 'legacy-1',
      name: 'legacy',
      content: 'from version 0',
      size: 14,
      mode: 'safe',
      tags: null,
      labels: null,
      revision: 3,
      created_at: '2020-01-01T00:00:00Z',
      token: null,
      secret: null,
      secret_version: null,
      meta: null,
      rule: [],
    };
    store.items.set('legacy-1', item);
    const { content, ...v0 } = item;
    ws.write(
      'terraform.tfstate',
      JSON.stringify({
        version: 4,
        terraform_version: '1.11.4',
        serial: 1,
        lineage: '5b4f1c1e-0000-4000-8000-000000000001',
        outputs: {},
        resources: [
          {
            mode: 'managed',
            type: 'orbit_test_item',
            name: 'legacy',
            provider: 'provider["registry.terraform.io/orbit/orbit"]',
            instances: [{ schema_version: 0, attributes: { ...v0, body: content }, sensitive_attributes: [] }],
          },
        ],
      }),
    );
    ws.write(
      'main.tf',
      `${requiredProviders}
resource "orbit_test_item" "legacy" {
  name    = "legacy"
  content = "from version 0"
}
`,
    );
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.stdout).toContain('No changes.');
    expect(plan.code).toBe(0);
    expect((await ws.run(['apply', '-refresh-only', '-auto-approve'])).code).toBe(0);
    const instance = ws.state().resources[0].instances[0];
    expect(instance.schema_version).toBe(1);
    expect(instance.attributes.content).toBe('from version 0');
    expect(instance.attributes).not.toHaveProperty('body');
  });

  test('interrupting terraform calls StopProvider, which cancels the running create', async () => {
    const ws = workspace();
    ws.write(
      'main.tf',
      `${requiredProviders}
resource "orbit_test_slow" "s" {
  delay_ms = 120000
}
`,
    );
    const started = Date.now();
    let terraformPid = 0;
    const waitForCreate = (async () => {
      while (!store.events.includes('slow create started')) await sleep(50);
      process.kill(terraformPid, 'SIGINT');
    })();
    const result = await ws.run(['apply', '-auto-approve'], { onSpawn: (pid) => (terraformPid = pid) });
    await waitForCreate;
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(store.events).toContain('slow create cancelled');
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('Interrupt received');
    expect(result.output).toContain('orbit_test_slow create: cancelled');
    expect(provider.logLines.join('')).toContain('StopProvider: cancelling running operations');
  });

  test('fifty resources are planned and applied concurrently; a re-plan is quiet', async () => {
    const ws = workspace();
    ws.write(
      'main.tf',
      `${requiredProviders}
resource "orbit_test_item" "many" {
  count   = 50
  name    = "item-\${count.index}"
  content = "content \${count.index}"
  rule {
    port = 1000 + count.index
  }
}
`,
    );
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 50 added, 0 changed, 0 destroyed.');
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(0);
    expect((await ws.run(['destroy', '-auto-approve'])).stdout).toContain('50 destroyed');
  });
});
