/** A data source: reads something that exists independently of terraform. */
import { BlockSchema, Schema } from '../protocol/schema';
import { ModelOf } from './model';
import { OperationContext, ValidateRequest } from './resource';

export interface DataSourceReadRequest<M, P = unknown> extends OperationContext<P> {
  /** The configuration, wholly known (terraform defers the read otherwise). */
  readonly config: M;
}

export interface DataSourceDefinition<K extends BlockSchema = BlockSchema, M = ModelOf<K>, P = unknown> {
  readonly typeName: string;
  readonly schema: Schema<K>;
  validate?(request: ValidateRequest<M>): void | Promise<void>;
  /** Returns the complete value: configured attributes as configured, computed ones filled in. */
  read(request: DataSourceReadRequest<M, P>): Promise<M>;
}

export type AnyDataSource = DataSourceDefinition<any, any, any>;

export function defineDataSource<K extends BlockSchema, P = unknown>(definition: DataSourceDefinition<K, ModelOf<K>, P>): DataSourceDefinition<K, ModelOf<K>, P> {
  if (!/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(definition.typeName)) {
    throw new Error(`"${definition.typeName}" is not a valid data source type name (allowed: <provider>_<name> in lower_snake_case)`);
  }
  return definition;
}
