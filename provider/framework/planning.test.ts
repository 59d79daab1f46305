import { t } from '../protocol/cty-type';
import { completeBlockValue } from '../protocol/schema';
import { checkPlanAgainstConfig, planChange } from './planning';
import { block, computed, nested, optional, required, schema } from './schema-builder';

const vm = schema({
  attributes: {
    id: computed(t.string, { useStateForUnknown: true }),
    name: required(t.string, { requiresReplace: true }),
    memory: optional(t.number, { default: 1024 }),
    note: optional(t.string),
    revision: computed(t.number),
    password: optional(t.string, { writeOnly: true }),
  },
  blocks: {
    disk: nested.list(block({ attributes: { size: required(t.number, { requiresReplace: true }), bus: optional(t.string, { default: 'virtio' }), serial: computed(t.string) } })),
    nic: nested.set(block({ attributes: { mac: required(t.string), model: optional(t.string, { default: 'e1000' }) } })),
    placement: nested.single(block({ attributes: { host: required(t.string) } }), { requiresReplace: true }),
  },
}).block;

const value = (v: Record<string, unknown>) => completeBlockValue(vm, v);

describe('planning', () => {
  test('create: computed attributes unknown, defaults planned (also in nested blocks), write-only null', () => {
    const config = value({ name: 'a', password: 'secret', disk: [{ size: 10 }], nic: [{ mac: 'm1' }] });
    const { planned, requiresReplace } = planChange(vm, null, config, config);
    expect(planned).toEqual({
      id: undefined,
      name: 'a',
      memory: 1024,
      note: null,
      revision: undefined,
      password: null,
      disk: [{ size: 10, bus: 'virtio', serial: undefined }],
      nic: [{ mac: 'm1', model: 'e1000' }],
      placement: null,
    });
    expect(requiresReplace).toEqual([]);
  });

  const prior = value({
    id: 'vm-1',
    name: 'a',
    memory: 1024,
    revision: 3,
    disk: [{ size: 10, bus: 'virtio', serial: 's1' }],
    nic: [{ mac: 'm1', model: 'e1000' }],
    placement: { host: 'h1' },
  });
  // what terraform proposes for an unchanged configuration: config values plus prior computed values
  const unchangedConfig = value({ name: 'a', disk: [{ size: 10 }], nic: [{ mac: 'm1' }], placement: { host: 'h1' } });

  test('update without changes: the plan equals the prior state (terraform reports no changes)', () => {
    const { planned, requiresReplace } = planChange(vm, prior, prior, unchangedConfig);
    expect(planned).toEqual(prior);
    expect(requiresReplace).toEqual([]);
  });

  test('update with a change: computed become unknown, except useStateForUnknown ones', () => {
    const config = { ...unchangedConfig, note: 'hi' };
    const { planned } = planChange(vm, prior, { ...prior, note: 'hi' }, config);
    expect(planned).toMatchObject({ id: 'vm-1', note: 'hi', revision: undefined, memory: 1024 });
    expect((planned.disk as Array<{ serial: unknown }>)[0].serial).toBeUndefined();
  });

  test('removing a configured value of an attribute with a default plans the default again', () => {
    const withMemory = { ...prior, memory: 4096 };
    const { planned } = planChange(vm, withMemory, withMemory, unchangedConfig);
    expect(planned.memory).toBe(1024);
  });

  test('requires-replace: attributes, attributes in list elements, and whole blocks', () => {
    const proposed = { ...prior, name: 'b', disk: [{ size: 20, bus: 'virtio', serial: 's1' }], placement: { host: 'h2' } };
    const config = { ...unchangedConfig, name: 'b', disk: [{ size: 20, bus: null, serial: null }], placement: { host: 'h2' } };
    expect(planChange(vm, prior, proposed, config).requiresReplace).toEqual([['name'], ['disk', 0, 'size'], ['placement']]);
  });

  test('adding a list element with a requires-replace attribute replaces the object', () => {
    const disks = [
      { size: 10, bus: 'virtio', serial: 's1' },
      { size: 5, bus: null, serial: null },
    ];
    const config = {
      ...unchangedConfig,
      disk: [
        { size: 10, bus: null, serial: null },
        { size: 5, bus: null, serial: null },
      ],
    };
    expect(planChange(vm, prior, { ...prior, disk: disks }, config).requiresReplace).toEqual([['disk']]);
  });

  test('unknown configuration values stay unknown', () => {
    const config = { ...unchangedConfig, note: undefined };
    const { planned } = planChange(vm, prior, { ...prior, note: undefined }, config);
    expect(planned.note).toBeUndefined();
    expect(planned.revision).toBeUndefined();
  });

  describe('checkPlanAgainstConfig finds what terraform would reject as an invalid plan', () => {
    const config = value({ name: 'a', disk: [{ size: 10 }] });
    const good = planChange(vm, null, config, config).planned;

    test('a valid plan passes', () => {
      expect(checkPlanAgainstConfig(vm, config, good, 'orbit_vm')).toEqual([]);
    });

    test('a configured value changed by plan customisation', () => {
      const problems = checkPlanAgainstConfig(vm, config, { ...good, name: 'other' }, 'orbit_vm');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ summary: 'orbit_vm: the provider planned an invalid value for name', path: ['name'] });
    });

    test('a non-computed attribute set although not configured, and a missing block', () => {
      const problems = checkPlanAgainstConfig(vm, config, { ...good, note: 'x', disk: [] }, 'orbit_vm');
      expect(problems.map((p) => p.path)).toEqual([['note'], ['disk']]);
    });

    test('a write-only value left in the plan', () => {
      expect(checkPlanAgainstConfig(vm, config, { ...good, password: 'x' }, 'orbit_vm')[0].path).toEqual(['password']);
    });
  });
});
