/**
 * A managed resource: schema, validation, plan customisation and create/read/update/delete/
 * import over the typed model derived from the schema (see model.ts).
 *
 * The framework plans by terraform's rules before `modifyPlan` runs: configured values as
 * configured, defaults for unset attributes that have one, computed attributes "known after
 * apply" when anything changes (or kept, with `useStateForUnknown`), write-only attributes
 * null, and `requiresReplace` attributes that changed reported for replacement. After
 * create/update it checks the new state against the plan and reports a mismatch as a clear
 * error instead of terraform's "inconsistent result after apply".
 */
import { AttributePath } from '../protocol/attribute-path';
import { Diagnostics } from '../protocol/diagnostics';
import { Logger } from '../protocol/logger';
import { BlockSchema, Schema } from '../protocol/schema';
import { ModelOf, Unknowable } from './model';

/**
 * What every request carries. `provider` is what the provider's `configure` returned (P, as
 * terraform-plugin-framework's ProviderData); `signal` aborts when terraform calls StopProvider.
 */
export interface OperationContext<P = unknown> {
  readonly provider: P;
  readonly signal: AbortSignal;
  /** For warnings (and errors that should not stop the operation). Thrown errors become errors here too. */
  readonly diagnostics: Diagnostics;
  readonly logger: Logger;
}

export interface ValidateRequest<M> {
  /** The configuration; values from other resources may still be unknown (`undefined`). */
  readonly config: Unknowable<M>;
  readonly diagnostics: Diagnostics;
}

export interface PlanRequest<M, P = unknown> extends OperationContext<P> {
  readonly config: Unknowable<M>;
  /** null when the object is being created. */
  readonly prior: M | null;
  /** The plan so far; change computed attributes here (`undefined` = known after apply). */
  readonly planned: Unknowable<M>;
  /** Plans replacement when the value at `path` changes (terraform ignores unchanged paths). */
  requireReplace(path: AttributePath | string): void;
}

export interface CreateRequest<M, P = unknown> extends OperationContext<P> {
  /** Planned values; computed attributes decided now are `undefined`. */
  readonly planned: Unknowable<M>;
  /** The configuration, including write-only attributes (which are never in planned or state). */
  readonly config: M;
}

export interface UpdateRequest<M, P = unknown> extends CreateRequest<M, P> {
  readonly prior: M;
}

export interface ReadRequest<M, P = unknown> extends OperationContext<P> {
  readonly state: M;
}

export interface DeleteRequest<M, P = unknown> extends OperationContext<P> {
  readonly state: M;
}

export interface ImportRequest<P = unknown> extends OperationContext<P> {
  /** What the user passed to `terraform import` or `import { id = ... }`. */
  readonly id: string;
}

export interface ResourceDefinition<K extends BlockSchema = BlockSchema, M = ModelOf<K>, P = unknown> {
  /** `orbit_<name>`. */
  readonly typeName: string;
  readonly schema: Schema<K>;
  /** Checks across attributes (single attributes use validators in the schema). Throw OrbitError or add diagnostics. */
  validate?(request: ValidateRequest<M>): void | Promise<void>;
  /** Adjusts the plan: compute values known at plan time, mark others unknown, require replacement. */
  modifyPlan?(request: PlanRequest<M, P>): void | Promise<void>;
  /** Creates the object and returns its complete state. Clean up partial work before throwing. */
  create(request: CreateRequest<M, P>): Promise<M>;
  /** Returns the object as it is now, or null when it no longer exists. */
  read(request: ReadRequest<M, P>): Promise<M | null>;
  /** Changes the object in place; leave out when every configurable attribute requires replacement. */
  update?(request: UpdateRequest<M, P>): Promise<M>;
  delete(request: DeleteRequest<M, P>): Promise<void>;
  /**
   * Turns an import id into enough state for `read` to find the object. Without it, import
   * works when the schema has an `id` attribute: the id is taken as is.
   */
  importState?(request: ImportRequest<P>): Promise<Partial<M>>;
  /**
   * Converts state stored by an older schema version (`fromVersion`, as parsed JSON) to the
   * current version's JSON layout. Called only when `fromVersion < schema.version`.
   */
  upgradeState?(fromVersion: number, state: Record<string, unknown>): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export type AnyResource = ResourceDefinition<any, any, any>;

export function defineResource<K extends BlockSchema, P = unknown>(definition: ResourceDefinition<K, ModelOf<K>, P>): ResourceDefinition<K, ModelOf<K>, P> {
  if (!/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(definition.typeName)) {
    throw new Error(`"${definition.typeName}" is not a valid resource type name (allowed: <provider>_<name> in lower_snake_case)`);
  }
  if (definition.schema.version > 0 && !definition.upgradeState) {
    throw new Error(`${definition.typeName} has schema version ${definition.schema.version} but no upgradeState`);
  }
  return definition;
}
