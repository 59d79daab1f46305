/**
 * The whole resource lifecycle with the real terraform binary, against a provider served by
 * this test process (TF_REATTACH_PROVIDERS) with TEST-ONLY in-memory resources.
 */
import * as fs from 'fs';
import { InProcessProvider, serveInProcess } from '../support/in-process-provider';
import { requiredProviders, Workspace } from '../support/terraform';
import { createTestProvider, TestStore } from '../support/test-provider';

jest.setTimeout(180_000);

const config = (overrides: { name?: string; content?: string } = {}) => `${requiredProviders}
provider "orbit" {}

resource "orbit_test_item" "a" {
  name           = "${overrides.name ?? 'alpha'}"
  content        = "${overrides.content ?? 'hello'}"
  tags           = { env = "test" }
  labels         = ["x", "y"]
  token          = "token-value-123"
  secret         = "write-only-secret-456"
  secret_version = 1
  meta           = { answer = 42, words = ["a", "b"] }
  rule {
    port = 22
  }
  rule {
    port  = 443
    proto = "udp"
  }
}

data "orbit_test_lookup" "a" {
  name = orbit_test_item.a.name
}

output "found" {
  value = data.orbit_test_lookup.a.found
}
`;

describe('resource lifecycle through terraform', () => {
  let store: TestStore;
  let provider: InProcessProvider;
  let ws: Workspace;

  beforeAll(async () => {
    store = new TestStore();
    provider = await serveInProcess(createTestProvider(store));
    ws = Workspace.create({ reattach: provider.reattach });
  });

  afterAll(async () => {
    ws.remove();
    await provider.stop();
  });

  const itemId = () => ws.state().resources.find((r) => r.type === 'orbit_test_item')!.instances[0].attributes.id as string;

  test('validate accepts the configuration', async () => {
    ws.write('main.tf', config());
    const result = await ws.run(['validate']);
    expect(result.output).toContain('Success');
    expect(result.code).toBe(0);
  });

  test('plan shows values computed at plan time, defaults, and unknowns', async () => {
    const result = await ws.run(['plan']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('# orbit_test_item.a will be created');
    expect(result.stdout).toMatch(/size\s+= 5/);
    expect(result.stdout).toMatch(/mode\s+= "safe"/);
    expect(result.stdout).toMatch(/id\s+= \(known after apply\)/);
    expect(result.stdout).toMatch(/proto\s+= "tcp"/);
    expect(result.stdout).toMatch(/token\s+= \(sensitive value\)/);
    expect(result.stdout).not.toContain('token-value-123');
    expect(result.stdout).not.toContain('write-only-secret-456');
  });

  test('apply creates the object; the write-only secret reaches the resource but never the state', async () => {
    const result = await ws.run(['apply', '-auto-approve']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    const id = itemId();
    expect(store.secrets.get(id)).toBe('write-only-secret-456');
    const stateText = fs.readFileSync(ws.statePath, 'utf8');
    expect(stateText).not.toContain('write-only-secret-456');
    const attributes = ws.state().resources.find((r) => r.type === 'orbit_test_item')!.instances[0].attributes;
    expect(attributes).toMatchObject({ name: 'alpha', size: 5, revision: 1, mode: 'safe', secret: null, meta: { value: { answer: 42, words: ['a', 'b'] } } });
    expect(attributes.rule).toEqual([
      { port: 22, proto: 'tcp' },
      { port: 443, proto: 'udp' },
    ]);
    expect(result.stdout).toContain('found = true');
  });

  test('a second plan reports no changes', async () => {
    const result = await ws.run(['plan', '-detailed-exitcode']);
    expect(result.stdout).toContain('No changes.');
    expect(result.code).toBe(0);
  });

  test('changing content updates in place and keeps id and created_at', async () => {
    const before = itemId();
    ws.write('main.tf', config({ content: 'hello world' }));
    const plan = await ws.run(['plan']);
    expect(plan.stdout).toContain('# orbit_test_item.a will be updated in-place');
    expect(plan.stdout).toMatch(/~ size\s+= 5 -> 11/);
    expect(plan.stdout).toMatch(/~ revision\s+= 1 -> \(known after apply\)/);
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('0 added, 1 changed, 0 destroyed');
    const attributes = ws.state().resources.find((r) => r.type === 'orbit_test_item')!.instances[0].attributes;
    expect(attributes).toMatchObject({ id: before, content: 'hello world', size: 11, revision: 2, created_at: '2025-01-01T00:00:00Z' });
    expect((await ws.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  });

  test('changing a requires-replace attribute replaces the object', async () => {
    const before = itemId();
    ws.write('main.tf', config({ name: 'beta', content: 'hello world' }));
    const plan = await ws.run(['plan']);
    expect(plan.stdout).toContain('# orbit_test_item.a must be replaced');
    expect(plan.stdout).toMatch(/name\s+= "alpha" -> "beta" # forces replacement/);
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('1 added, 0 changed, 1 destroyed');
    expect(itemId()).not.toBe(before);
    expect(store.items.has(before)).toBe(false);
    expect(store.events.indexOf(`delete ${before}`)).toBeLessThan(store.events.indexOf(`create ${itemId()}`));
  });

  test('refresh detects drift and the plan restores the configured value', async () => {
    const id = itemId();
    store.items.set(id, { ...store.items.get(id)!, content: 'changed by hand' });
    const refreshOnly = await ws.run(['plan', '-refresh-only']);
    expect(refreshOnly.stdout).toContain('Objects have changed outside of Terraform');
    expect(refreshOnly.stdout).toMatch(/~ content\s+= "hello world" -> "changed by hand"/);
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/~ content\s+= "changed by hand" -> "hello world"/);
    expect((await ws.run(['apply', '-auto-approve'])).code).toBe(0);
    expect(store.items.get(id)!.content).toBe('hello world');
    expect((await ws.run(['plan', '-detailed-exitcode'])).code).toBe(0);
  });

  test('an object deleted outside terraform is planned for creation', async () => {
    const id = itemId();
    const saved = store.items.get(id)!;
    store.items.delete(id);
    const plan = await ws.run(['plan']);
    expect(plan.stdout).toContain('# orbit_test_item.a will be created');
    store.items.set(id, saved);
  });

  test('import adopts an existing object; the plan then shows no changes', async () => {
    const id = itemId();
    expect((await ws.run(['state', 'rm', 'orbit_test_item.a'])).code).toBe(0);
    const imported = await ws.run(['import', 'orbit_test_item.a', id]);
    expect(imported.stdout).toContain('Import successful!');
    expect(imported.code).toBe(0);
    expect(itemId()).toBe(id);
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.stdout).toContain('No changes.');
    expect(plan.code).toBe(0);
  });

  test('destroy deletes the object', async () => {
    const id = itemId();
    const result = await ws.run(['destroy', '-auto-approve']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Destroy complete! Resources: 1 destroyed.');
    expect(store.items.has(id)).toBe(false);
  });

  test('the provider log never contains sensitive or write-only values', () => {
    const log = provider.logLines.join('');
    expect(log).toContain('"@message":"RPC done"');
    expect(log).not.toContain('token-value-123');
    expect(log).not.toContain('write-only-secret-456');
  });
});
