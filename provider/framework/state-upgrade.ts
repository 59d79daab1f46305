/**
 * Reads stored state into the current schema. Terraform calls UpgradeResourceState every
 * time it loads a resource's state; when the stored schema version is older, the resource's
 * `upgradeState` converts the JSON first.
 */
import { fromJsonValue } from '../protocol/json-codec';
import { blockValueType, completeBlockValue } from '../protocol/schema';
import { OrbitError } from './errors';
import { AnyResource } from './resource';
import { BlockValue } from './schema-walk';

export async function upgradeStoredState(resource: AnyResource, storedVersion: number, json: string): Promise<BlockValue> {
  const current = resource.schema.version;
  let raw = JSON.parse(json) as Record<string, unknown>;
  if (storedVersion > current) {
    throw new OrbitError(`The state of this ${resource.typeName} was written by a newer Orbit provider`, {
      value: storedVersion,
      allowed: `schema versions up to ${current}`,
      fix: 'use the Orbit provider version that wrote this state (or newer); this version cannot read it',
    });
  }
  if (storedVersion < current) {
    if (!resource.upgradeState) throw new Error(`${resource.typeName} has no upgradeState for schema version ${storedVersion}`);
    raw = await resource.upgradeState(storedVersion, raw);
  }
  const value = fromJsonValue(blockValueType(resource.schema.block), raw, [], { ignoreUnknownAttributes: true });
  return completeBlockValue(resource.schema.block, value);
}
