/**
 * TEST ONLY: the orbit provider configuration with resources that keep their objects in the
 * memory of the test process, to exercise the protocol and the framework with the real
 * terraform binary without hosts. Never registered in the shipped provider.
 */
import { t } from '../../provider/protocol/cty-type';
import { defineDataSource } from '../../provider/framework/data-source';
import { OrbitError } from '../../provider/framework/errors';
import { ModelOf, resolvePlanned } from '../../provider/framework/model';
import { defineProvider } from '../../provider/framework/provider-definition';
import { defineResource } from '../../provider/framework/resource';
import { block, computed, nested, optional, required, schema } from '../../provider/framework/schema-builder';
import { between, matches, oneOf } from '../../provider/framework/validators';
import { orbitProvider } from '../../provider/provider';

export const itemSchema = schema({
  version: 1,
  description: 'TEST ONLY: an item kept in memory by the test process.',
  attributes: {
    id: computed(t.string, { useStateForUnknown: true }),
    name: required(t.string, {
      requiresReplace: true,
      validators: [matches(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and "-", starting with a letter', 'web-1')],
    }),
    content: optional(t.string),
    size: computed(t.number, { description: 'Length of content, known at plan time.' }),
    mode: optional(t.string, { default: 'safe', validators: [oneOf(['safe', 'fast'])] }),
    tags: optional(t.map(t.string)),
    labels: optional(t.set(t.string)),
    revision: computed(t.number, { description: 'Goes up by one with every update.' }),
    created_at: computed(t.string, { useStateForUnknown: true }),
    token: optional(t.string, { sensitive: true }),
    secret: optional(t.string, { writeOnly: true, sensitive: true }),
    secret_version: optional(t.number),
    meta: optional(t.dynamic),
  },
  blocks: {
    rule: nested.list(
      block({
        attributes: {
          port: required(t.number, { validators: [between(1, 65535)] }),
          proto: optional(t.string, { default: 'tcp' }),
        },
      }),
    ),
  },
});

export type Item = ModelOf<typeof itemSchema.block>;

export class TestStore {
  readonly items = new Map<string, Item>();
  /** What the resource received as write-only `secret`, by item id (to prove it arrived). */
  readonly secrets = new Map<string, string>();
  readonly events: string[] = [];
  private counter = 0;
  nextId(): string {
    this.counter += 1;
    return `item-${this.counter}`;
  }
}

export function createTestProvider(store: TestStore) {
  const item = defineResource({
    typeName: 'orbit_test_item',
    schema: itemSchema,
    validate({ config }) {
      if (config.secret_version !== null && config.secret_version !== undefined && config.secret === null) {
        throw new OrbitError('secret_version is set but secret is not', {
          attribute: 'secret_version',
          value: config.secret_version,
          fix: 'set secret as well, or remove secret_version',
        });
      }
    },
    modifyPlan({ planned, config }) {
      if (config.content !== undefined) planned.size = config.content?.length ?? 0;
    },
    async create({ planned, config }) {
      const id = store.nextId();
      const state = resolvePlanned(planned, { id, size: config.content?.length ?? 0, revision: 1, created_at: '2025-01-01T00:00:00Z' });
      if (config.secret !== null) store.secrets.set(id, config.secret);
      store.items.set(id, state);
      store.events.push(`create ${id}`);
      return state;
    },
    async read({ state }) {
      store.events.push(`read ${state.id}`);
      return store.items.get(state.id ?? '') ?? null;
    },
    async update({ prior, planned, config }) {
      const state = resolvePlanned(planned, { size: config.content?.length ?? 0, revision: (prior.revision ?? 0) + 1 });
      if (config.secret !== null) store.secrets.set(prior.id!, config.secret);
      store.items.set(prior.id!, state);
      store.events.push(`update ${prior.id}`);
      return state;
    },
    async delete({ state }) {
      store.items.delete(state.id ?? '');
      store.events.push(`delete ${state.id}`);
    },
    upgradeState(fromVersion, state) {
      // version 0 called `content` "body"
      if (fromVersion === 0) {
        const { body, ...rest } = state;
        return { ...rest, content: body ?? null };
      }
      return state;
    },
  });

  const slow = defineResource({
    typeName: 'orbit_test_slow',
    schema: schema({
      description: 'TEST ONLY: takes delay_ms to create, unless cancelled.',
      attributes: {
        id: computed(t.string, { useStateForUnknown: true }),
        delay_ms: required(t.number, { requiresReplace: true }),
      },
    }),
    async create({ planned, signal }) {
      store.events.push('slow create started');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, planned.delay_ms ?? 0);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          store.events.push('slow create cancelled');
          reject(signal.reason);
        });
      });
      return { id: 'slow', delay_ms: planned.delay_ms! };
    },
    async read({ state }) {
      return state;
    },
    async delete() {},
  });

  const lookup = defineDataSource({
    typeName: 'orbit_test_lookup',
    schema: schema({
      attributes: {
        name: required(t.string),
        content: computed(t.string),
        found: computed(t.bool),
      },
    }),
    async read({ config }) {
      const found = [...store.items.values()].find((i) => i.name === config.name);
      return { name: config.name, content: found?.content ?? null, found: found !== undefined };
    },
  });

  return defineProvider({ ...orbitProvider, resources: [item, slow], dataSources: [lookup] });
}
