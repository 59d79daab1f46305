/**
 * The framework hands every request the provider's data (what its `configure` returned) as
 * `provider`, without knowing its type, as terraform-plugin-framework does with ProviderData.
 * A provider gets defineResource and defineDataSource with that type filled in once:
 *
 *   export const { defineResource, defineDataSource } = definitionsFor<MyProviderData>();
 */
import { BlockSchema } from '../protocol/schema';
import { DataSourceDefinition, defineDataSource } from './data-source';
import { ModelOf } from './model';
import { defineResource, ResourceDefinition } from './resource';

export function definitionsFor<P>() {
  return {
    defineResource: <K extends BlockSchema>(definition: ResourceDefinition<K, ModelOf<K>, P>) => defineResource<K, P>(definition),
    defineDataSource: <K extends BlockSchema>(definition: DataSourceDefinition<K, ModelOf<K>, P>) => defineDataSource<K, P>(definition),
  };
}
