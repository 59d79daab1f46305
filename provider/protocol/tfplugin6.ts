/**
 * TypeScript shapes of the tfplugin6 messages Orbit handles, as @grpc/proto-loader decodes
 * them (field names as in the .proto, enums as strings, int64 as number, bytes as Buffer,
 * absent messages as null).
 */
import { ProtoAttributePath } from './attribute-path';
import { ProtoDiagnostic } from './diagnostics';

export interface ProtoDynamicValue {
  msgpack?: Uint8Array;
  json?: Uint8Array;
}

export interface ProtoClientCapabilities {
  deferral_allowed?: boolean;
  write_only_attributes_allowed?: boolean;
}

export type StringKind = 'PLAIN' | 'MARKDOWN';

export interface ProtoAttribute {
  name: string;
  type: Uint8Array;
  description: string;
  description_kind: StringKind;
  required: boolean;
  optional: boolean;
  computed: boolean;
  sensitive: boolean;
  deprecated: boolean;
  write_only: boolean;
}

export interface ProtoBlock {
  version: number;
  attributes: ProtoAttribute[];
  block_types: ProtoNestedBlock[];
  description: string;
  description_kind: StringKind;
  deprecated: boolean;
}

export interface ProtoNestedBlock {
  type_name: string;
  block: ProtoBlock;
  nesting: 'SINGLE' | 'LIST' | 'SET' | 'MAP' | 'GROUP';
  min_items: number;
  max_items: number;
}

export interface ProtoSchema {
  version: number;
  block: ProtoBlock;
}

interface WithDiagnostics {
  diagnostics?: ProtoDiagnostic[];
}

export interface GetProviderSchemaResponse extends WithDiagnostics {
  provider: ProtoSchema;
  resource_schemas: Record<string, ProtoSchema>;
  data_source_schemas: Record<string, ProtoSchema>;
  server_capabilities: { plan_destroy: boolean; get_provider_schema_optional: boolean; move_resource_state: boolean };
}

export interface ValidateProviderConfigRequest {
  config: ProtoDynamicValue | null;
}
export interface ValidateResourceConfigRequest {
  type_name: string;
  config: ProtoDynamicValue | null;
}
export type ValidateDataResourceConfigRequest = ValidateResourceConfigRequest;

export interface UpgradeResourceStateRequest {
  type_name: string;
  version: number;
  raw_state: { json?: Uint8Array; flatmap?: Record<string, string> } | null;
}
export interface UpgradeResourceStateResponse extends WithDiagnostics {
  upgraded_state?: ProtoDynamicValue;
}

export interface ConfigureProviderRequest {
  terraform_version: string;
  config: ProtoDynamicValue | null;
  client_capabilities: ProtoClientCapabilities | null;
}

export interface ReadResourceRequest {
  type_name: string;
  current_state: ProtoDynamicValue | null;
  private: Uint8Array;
}
export interface ReadResourceResponse extends WithDiagnostics {
  new_state?: ProtoDynamicValue;
  private?: Uint8Array;
}

export interface PlanResourceChangeRequest {
  type_name: string;
  prior_state: ProtoDynamicValue | null;
  proposed_new_state: ProtoDynamicValue | null;
  config: ProtoDynamicValue | null;
  prior_private: Uint8Array;
  client_capabilities: ProtoClientCapabilities | null;
}
export interface PlanResourceChangeResponse extends WithDiagnostics {
  planned_state?: ProtoDynamicValue;
  requires_replace?: ProtoAttributePath[];
  planned_private?: Uint8Array;
}

export interface ApplyResourceChangeRequest {
  type_name: string;
  prior_state: ProtoDynamicValue | null;
  planned_state: ProtoDynamicValue | null;
  config: ProtoDynamicValue | null;
  planned_private: Uint8Array;
}
export interface ApplyResourceChangeResponse extends WithDiagnostics {
  new_state?: ProtoDynamicValue;
  private?: Uint8Array;
}

export interface ImportResourceStateRequest {
  type_name: string;
  id: string;
}
export interface ImportResourceStateResponse extends WithDiagnostics {
  imported_resources?: Array<{ type_name: string; state: ProtoDynamicValue; private?: Uint8Array }>;
}

export interface ReadDataSourceRequest {
  type_name: string;
  config: ProtoDynamicValue | null;
}
export interface ReadDataSourceResponse extends WithDiagnostics {
  state?: ProtoDynamicValue;
}

export interface StopProviderResponse {
  Error: string;
}

/** The Provider service methods Orbit implements; the rest answer UNIMPLEMENTED. */
export interface ProviderHandlers {
  GetProviderSchema(request: object): Promise<GetProviderSchemaResponse>;
  ValidateProviderConfig(request: ValidateProviderConfigRequest): Promise<WithDiagnostics>;
  ValidateResourceConfig(request: ValidateResourceConfigRequest): Promise<WithDiagnostics>;
  ValidateDataResourceConfig(request: ValidateDataResourceConfigRequest): Promise<WithDiagnostics>;
  UpgradeResourceState(request: UpgradeResourceStateRequest): Promise<UpgradeResourceStateResponse>;
  ConfigureProvider(request: ConfigureProviderRequest): Promise<WithDiagnostics>;
  ReadResource(request: ReadResourceRequest): Promise<ReadResourceResponse>;
  PlanResourceChange(request: PlanResourceChangeRequest): Promise<PlanResourceChangeResponse>;
  ApplyResourceChange(request: ApplyResourceChangeRequest): Promise<ApplyResourceChangeResponse>;
  ImportResourceState(request: ImportResourceStateRequest): Promise<ImportResourceStateResponse>;
  ReadDataSource(request: ReadDataSourceRequest): Promise<ReadDataSourceResponse>;
  StopProvider(request: object): Promise<StopProviderResponse>;
}
