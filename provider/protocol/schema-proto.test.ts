import { t } from './cty-type';
import { schemaToProto } from './schema-proto';
import { block, computed, nested, optional, required, schema } from '../framework/schema-builder';

const example = schema({
  version: 2,
  markdownDescription: 'An **example**.',
  attributes: {
    id: computed(t.string, { useStateForUnknown: true }),
    name: required(t.string, { description: 'The name.', requiresReplace: true }),
    mode: optional(t.string, { default: 'safe' }),
    password: optional(t.string, { sensitive: true, writeOnly: true }),
    old: optional(t.list(t.string), { deprecated: 'use name' }),
  },
  blocks: {
    disk: nested.list(block({ attributes: { size: required(t.number) } }), { minItems: 1, maxItems: 4 }),
    options: nested.single(block({ attributes: { tags: optional(t.map(t.string)) } })),
  },
});

describe('schema to protobuf', () => {
  const proto = schemaToProto(example, 'resource');
  const attribute = (name: string) => proto.block.attributes.find((a) => a.name === name)!;

  test('version, description kind and types as JSON bytes', () => {
    expect(proto.version).toBe(2);
    expect(proto.block).toMatchObject({ version: 2, description: 'An **example**.', description_kind: 'MARKDOWN', deprecated: false });
    expect(Buffer.from(attribute('name').type).toString()).toBe('"string"');
    expect(Buffer.from(attribute('old').type).toString()).toBe('["list","string"]');
    expect(attribute('name')).toMatchObject({ description: 'The name.', description_kind: 'PLAIN', required: true, optional: false, computed: false });
  });

  test('flags: computed, defaults (optional+computed), sensitive, write-only, deprecated', () => {
    expect(attribute('id')).toMatchObject({ computed: true, optional: false, required: false });
    expect(attribute('mode')).toMatchObject({ optional: true, computed: true });
    expect(attribute('password')).toMatchObject({ optional: true, sensitive: true, write_only: true, computed: false });
    expect(attribute('old')).toMatchObject({ deprecated: true });
  });

  test('nested blocks with nesting mode and item limits', () => {
    expect(proto.block.block_types).toEqual([
      expect.objectContaining({ type_name: 'disk', nesting: 'LIST', min_items: 1, max_items: 4 }),
      expect.objectContaining({ type_name: 'options', nesting: 'SINGLE', min_items: 0, max_items: 0 }),
    ]);
    expect(proto.block.block_types[0].block.attributes[0]).toMatchObject({ name: 'size', required: true });
  });

  test('provider schemas have no computed attributes (defaults apply at configure time)', () => {
    const providerProto = schemaToProto(example, 'provider');
    expect(providerProto.block.attributes.find((a) => a.name === 'mode')).toMatchObject({ optional: true, computed: false });
  });
});

describe('schema definitions that cannot work fail at load time', () => {
  test('invalid names', () => {
    expect(() => block({ attributes: { BadName: required(t.string) } })).toThrow('"BadName" is not a valid terraform attribute name');
  });
  test('a default of the wrong type', () => {
    expect(() => optional(t.number, { default: 'x' as unknown as number })).toThrow(/does not fit the attribute's type/);
  });
  test('write-only cannot be computed', () => {
    expect(() => optional(t.string, { writeOnly: true, default: 'x' })).toThrow(/write-only attribute cannot be computed/);
  });
});
