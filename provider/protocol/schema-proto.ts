/** Converts the schema model to the tfplugin6 Schema message terraform reads. */
import { typeToJson } from './cty-type';
import { AttributeSchema, BlockSchema, NestedBlockSchema, Schema } from './schema';
import { ProtoAttribute, ProtoBlock, ProtoNestedBlock, ProtoSchema, StringKind } from './tfplugin6';

/**
 * Provider configuration is never planned, so it has no computed attributes: its defaults
 * are applied when the provider is configured.
 */
export type SchemaKind = 'provider' | 'resource' | 'data-source';

export function schemaToProto(schema: Schema, kind: SchemaKind): ProtoSchema {
  return { version: schema.version, block: blockToProto(schema.block, schema.version, kind) };
}

function blockToProto(block: BlockSchema, version: number, kind: SchemaKind): ProtoBlock {
  return {
    version,
    attributes: Object.entries(block.attributes).map(([name, attribute]) => attributeToProto(name, attribute, kind)),
    block_types: Object.entries(block.blocks).map(([name, nested]) => nestedBlockToProto(name, nested, version, kind)),
    ...description(block),
    deprecated: block.deprecationMessage !== undefined,
  };
}

function attributeToProto(name: string, attribute: AttributeSchema, kind: SchemaKind): ProtoAttribute {
  return {
    name,
    type: Buffer.from(JSON.stringify(typeToJson(attribute.type))),
    ...description(attribute),
    required: attribute.required,
    optional: attribute.optional,
    computed: kind !== 'provider' && (attribute.computed || attribute.default !== undefined),
    sensitive: attribute.sensitive,
    deprecated: attribute.deprecationMessage !== undefined,
    write_only: attribute.writeOnly,
  };
}

function nestedBlockToProto(name: string, nested: NestedBlockSchema, version: number, kind: SchemaKind): ProtoNestedBlock {
  return {
    type_name: name,
    block: blockToProto(nested.block, version, kind),
    nesting: nested.nesting.toUpperCase() as ProtoNestedBlock['nesting'],
    min_items: nested.minItems ?? 0,
    max_items: nested.maxItems ?? 0,
  };
}

function description(documented: { description?: string; markdownDescription?: string }): {
  description: string;
  description_kind: StringKind;
} {
  return documented.markdownDescription !== undefined
    ? { description: documented.markdownDescription, description_kind: 'MARKDOWN' }
    : { description: documented.description ?? '', description_kind: 'PLAIN' };
}
