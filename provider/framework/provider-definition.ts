/** A provider: its configuration schema, how it is configured, and its resources and data sources. */
import { Diagnostics } from '../protocol/diagnostics';
import { Logger } from '../protocol/logger';
import { BlockSchema, Schema } from '../protocol/schema';
import { AnyDataSource } from './data-source';
import { ModelOf, Unknowable } from './model';
import { AnyResource } from './resource';

export interface ConfigureRequest<M> {
  /** The configuration with defaults applied. Unknown (`undefined`) when it depends on resources not yet created. */
  readonly config: Unknowable<M>;
  readonly terraformVersion: string;
  readonly diagnostics: Diagnostics;
  readonly logger: Logger;
}

/** P: the provider's data, handed to every resource and data source request as `provider`. */
export interface ProviderDefinition<K extends BlockSchema = BlockSchema, M = ModelOf<K>, P = unknown> {
  /** The provider's local name: resource types are `<typeName>_<name>`. */
  readonly typeName: string;
  /** Provider configuration. Keep it free of required attributes: `cdktf get` configures the provider with `{}`. */
  readonly schema: Schema<K>;
  validate?(request: { readonly config: Unknowable<M>; readonly diagnostics: Diagnostics }): void | Promise<void>;
  configure(request: ConfigureRequest<M>): P | Promise<P>;
  readonly resources: readonly AnyResource[];
  readonly dataSources?: readonly AnyDataSource[];
}

export type AnyProvider = ProviderDefinition<any, any, any>;

export function defineProvider<K extends BlockSchema, P>(definition: ProviderDefinition<K, ModelOf<K>, P>): ProviderDefinition<K, ModelOf<K>, P> {
  const names = [...definition.resources.map((r) => r.typeName), ...(definition.dataSources ?? []).map((d) => `data.${d.typeName}`)];
  for (const name of names) {
    const typeName = name.replace(/^data\./, '');
    if (!typeName.startsWith(`${definition.typeName}_`)) {
      throw new Error(`${name} must start with "${definition.typeName}_" to belong to the ${definition.typeName} provider`);
    }
    if (names.indexOf(name) !== names.lastIndexOf(name)) throw new Error(`${name} is declared twice`);
  }
  return definition;
}
