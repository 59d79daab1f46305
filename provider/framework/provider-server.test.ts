import { t } from '../protocol/cty-type';
import { createLogger } from '../protocol/logger';
import { decodeMsgpack, encodeMsgpack } from '../protocol/msgpack-codec';
import { blockValueType, completeBlockValue } from '../protocol/schema';
import { ProtoDynamicValue } from '../protocol/tfplugin6';
import { createProviderContext } from '../config/provider-context';
import { defineProvider } from './provider-definition';
import { ProviderServer } from './provider-server';
import { defineResource } from './resource';
import { computed, required, schema } from './schema-builder';
import { setTimeout as sleep } from 'timers/promises';

const thingSchema = schema({ attributes: { id: computed(t.string), name: required(t.string), size: computed(t.number) } });
const type = blockValueType(thingSchema.block);
const dv = (value: Record<string, unknown> | null): ProtoDynamicValue => ({
  msgpack: Buffer.from(encodeMsgpack(type, value === null ? null : completeBlockValue(thingSchema.block, value))),
});
const read = (value: ProtoDynamicValue | undefined) => decodeMsgpack(type, value!.msgpack!);

type Behaviour = 'ok' | 'wrong-name' | 'forgets-size' | 'throws' | 'waits';
let behaviour: Behaviour = 'ok';

const thing = defineResource({
  typeName: 'orbit_thing',
  schema: thingSchema,
  async create({ planned, signal }) {
    switch (behaviour) {
      case 'wrong-name':
        return { id: '1', name: 'renamed', size: 1 };
      case 'forgets-size':
        return { ...(planned as { name: string; size: null }), id: '1' };
      case 'throws':
        throw new Error('disk full on host a');
      case 'waits':
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        return { id: '1', name: 'never', size: 0 };
      default:
        return { id: `id-${planned.name}`, name: planned.name!, size: planned.name!.length };
    }
  },
  async read({ state }) {
    return state;
  },
  async delete() {},
});

async function configuredServer(): Promise<ProviderServer> {
  const provider = defineProvider({
    typeName: 'orbit',
    schema: schema({}),
    configure: ({ terraformVersion }) => createProviderContext({ terraformVersion }),
    resources: [thing],
  });
  const server = new ProviderServer(provider, createLogger({ level: 'off' }));
  await server.ConfigureProvider({ terraform_version: '1.11.4', config: { msgpack: Buffer.from(encodeMsgpack(t.object({}), {})) }, client_capabilities: null });
  return server;
}

async function planAndApply(server: ProviderServer, name: string) {
  const config = dv({ name });
  const plan = await server.PlanResourceChange({
    type_name: 'orbit_thing',
    prior_state: dv(null),
    proposed_new_state: config,
    config,
    prior_private: Buffer.alloc(0),
    client_capabilities: null,
  });
  return server.ApplyResourceChange({
    type_name: 'orbit_thing',
    prior_state: dv(null),
    planned_state: plan.planned_state!,
    config,
    planned_private: Buffer.alloc(0),
  });
}

describe('provider server', () => {
  beforeEach(() => (behaviour = 'ok'));

  test('a create that returns a different configured value is reported clearly, not as "inconsistent result"', async () => {
    behaviour = 'wrong-name';
    const result = await planAndApply(await configuredServer(), 'db');
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'ERROR',
        summary: 'orbit_thing create produced a different name than planned',
        detail: expect.stringContaining('Planned: "db"\nResult:  "renamed"'),
      }),
    ]);
    expect(read(result.new_state)).toEqual({ id: '1', name: 'renamed', size: 1 });
  });

  test('a create that leaves a computed attribute unknown is reported with its path', async () => {
    behaviour = 'forgets-size';
    const result = await planAndApply(await configuredServer(), 'db');
    expect(result.diagnostics![0]).toMatchObject({ summary: 'orbit_thing create left size without a value', attribute: { steps: [{ attribute_name: 'size' }] } });
    expect(read(result.new_state)).toEqual({ id: '1', name: 'db', size: null });
  });

  test('an error thrown by create becomes a diagnostic and nothing is recorded as created', async () => {
    behaviour = 'throws';
    const result = await planAndApply(await configuredServer(), 'db');
    expect(result.diagnostics).toEqual([expect.objectContaining({ summary: 'orbit_thing create failed', detail: 'disk full on host a' })]);
    expect(read(result.new_state)).toBeNull();
  });

  test('StopProvider cancels operations in flight; later operations run normally', async () => {
    const server = await configuredServer();
    behaviour = 'waits';
    const pending = planAndApply(server, 'db');
    await sleep(20);
    expect(await server.StopProvider()).toEqual({ Error: '' });
    const cancelled = await pending;
    expect(cancelled.diagnostics![0].summary).toBe('orbit_thing create: cancelled');
    behaviour = 'ok';
    expect((await planAndApply(server, 'next')).diagnostics).toEqual([]);
  });

  test('concurrent requests do not share state', async () => {
    const server = await configuredServer();
    const names = Array.from({ length: 20 }, (_, i) => `n${'x'.repeat(i)}`);
    const results = await Promise.all(names.map((name) => planAndApply(server, name)));
    results.forEach((result, i) => expect(read(result.new_state)).toEqual({ id: `id-${names[i]}`, name: names[i], size: names[i].length }));
  });

  test('state written by a newer provider is refused with a fix', async () => {
    const server = await configuredServer();
    const result = await server.UpgradeResourceState({ type_name: 'orbit_thing', version: 7, raw_state: { json: Buffer.from('{"id":"1","name":"a","size":1}') } });
    expect(result.diagnostics![0].summary).toBe('The state of this orbit_thing was written by a newer Orbit provider');
    expect(result.diagnostics![0].detail).toContain('Allowed: schema versions up to 0');
  });

  test('operations before ConfigureProvider fail with an explanation', async () => {
    const provider = defineProvider({ typeName: 'orbit', schema: schema({}), configure: () => createProviderContext({ terraformVersion: 'x' }), resources: [thing] });
    const server = new ProviderServer(provider, createLogger({ level: 'off' }));
    const result = await planAndApply(server, 'db');
    expect(result.diagnostics![0].detail).toContain('before terraform configured it');
  });
});
