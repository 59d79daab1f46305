/**
 * Implements the tfplugin6 Provider service for a provider definition: decodes requests
 * into typed models, runs validation, planning and the resource's operations, and encodes
 * the answers. Every handler is stateless apart from the provider's configured data, so
 * terraform's concurrent calls (up to 10 by default) are safe.
 */
import { AttributePath, formatPath, pathToProto } from '../protocol/attribute-path';
import { Diagnostic, diagnosticToProto, Diagnostics, ProtoDiagnostic } from '../protocol/diagnostics';
import { fromJsonValue } from '../protocol/json-codec';
import { Logger } from '../protocol/logger';
import { decodeMsgpack, encodeMsgpack } from '../protocol/msgpack-codec';
import { BlockSchema, blockValueType, completeBlockValue } from '../protocol/schema';
import { schemaToProto } from '../protocol/schema-proto';
import * as wire from '../protocol/tfplugin6';
import { ValueTypeError } from '../protocol/value-error';
import { checkNewState } from './apply-check';
import { Cancellation } from './cancellation';
import { validateConfigValues } from './config-validation';
import { AnyDataSource } from './data-source';
import { errorToDiagnostic, OrbitError } from './errors';
import { checkPlanAgainstConfig, planChange } from './planning';
import { AnyProvider } from './provider-definition';
import { AnyResource, OperationContext } from './resource';
import { BlockValue, clearWriteOnly, firstUnknownPath, unknownsToNull, visitAttributes } from './schema-walk';
import { upgradeStoredState } from './state-upgrade';

type Kind = 'resource' | 'data source';

export class ProviderServer implements wire.ProviderHandlers {
  private readonly resources: Map<string, AnyResource>;
  private readonly dataSources: Map<string, AnyDataSource>;
  private readonly cancellation = new Cancellation();
  /** What the provider's `configure` returned, once it succeeded. */
  private configured: { data: unknown } | undefined;
  private schemaResponse: wire.GetProviderSchemaResponse | undefined;

  constructor(
    private readonly provider: AnyProvider,
    private readonly logger: Logger,
  ) {
    this.resources = new Map(provider.resources.map((r) => [r.typeName, r]));
    this.dataSources = new Map((provider.dataSources ?? []).map((d) => [d.typeName, d]));
  }

  async GetProviderSchema(): Promise<wire.GetProviderSchemaResponse> {
    this.schemaResponse ??= {
      provider: schemaToProto(this.provider.schema, 'provider'),
      resource_schemas: Object.fromEntries([...this.resources].map(([name, r]) => [name, schemaToProto(r.schema, 'resource')])),
      data_source_schemas: Object.fromEntries([...this.dataSources].map(([name, d]) => [name, schemaToProto(d.schema, 'data-source')])),
      // the schema never depends on configuration, so terraform may reuse it instead of asking every process
      server_capabilities: { plan_destroy: true, get_provider_schema_optional: true, move_resource_state: false },
      diagnostics: [],
    };
    return this.schemaResponse;
  }

  async ValidateProviderConfig(request: wire.ValidateProviderConfigRequest): Promise<{ diagnostics: ProtoDiagnostic[] }> {
    const diagnostics = new Diagnostics();
    await this.guard(diagnostics, 'provider configuration', this.provider.schema.block, async () => {
      const config = this.decodeConfig(this.provider.schema.block, request.config);
      validateConfigValues(this.provider.schema.block, config, diagnostics);
      await this.provider.validate?.({ config, diagnostics });
    });
    return { diagnostics: toProto(diagnostics) };
  }

  async ConfigureProvider(request: wire.ConfigureProviderRequest): Promise<{ diagnostics: ProtoDiagnostic[] }> {
    const diagnostics = new Diagnostics();
    await this.guard(diagnostics, 'provider configuration', this.provider.schema.block, async () => {
      const config = this.decodeConfig(this.provider.schema.block, request.config);
      applyProviderDefaults(this.provider.schema.block, config);
      const context = await this.provider.configure({
        config,
        terraformVersion: request.terraform_version,
        diagnostics,
        logger: this.logger,
      });
      if (!diagnostics.hasErrors()) this.configured = { data: context };
    });
    return { diagnostics: toProto(diagnostics) };
  }

  async ValidateResourceConfig(request: wire.ValidateResourceConfigRequest): Promise<{ diagnostics: ProtoDiagnostic[] }> {
    return this.validate('resource', request);
  }

  async ValidateDataResourceConfig(request: wire.ValidateDataResourceConfigRequest): Promise<{ diagnostics: ProtoDiagnostic[] }> {
    return this.validate('data source', request);
  }

  private async validate(kind: Kind, request: wire.ValidateResourceConfigRequest): Promise<{ diagnostics: ProtoDiagnostic[] }> {
    const diagnostics = new Diagnostics();
    const definition = kind === 'resource' ? this.resource(request.type_name) : this.dataSource(request.type_name);
    await this.guard(diagnostics, `${request.type_name} configuration`, definition.schema.block, async () => {
      const config = this.decodeConfig(definition.schema.block, request.config);
      validateConfigValues(definition.schema.block, config, diagnostics);
      if (kind === 'data source') rejectWriteOnly(definition.schema.block, config, diagnostics);
      if (!diagnostics.hasErrors()) await definition.validate?.({ config, diagnostics });
    });
    return { diagnostics: toProto(diagnostics) };
  }

  async UpgradeResourceState(request: wire.UpgradeResourceStateRequest): Promise<wire.UpgradeResourceStateResponse> {
    const diagnostics = new Diagnostics();
    const resource = this.resource(request.type_name);
    let upgraded: BlockValue | undefined;
    await this.guard(diagnostics, `${request.type_name} state upgrade`, resource.schema.block, async () => {
      const json = request.raw_state?.json;
      if (!json || json.length === 0) {
        throw new OrbitError(`The state of this ${request.type_name} is in terraform's legacy flatmap format`, {
          fix: 'remove it from state (terraform state rm) and import it again',
        });
      }
      upgraded = await upgradeStoredState(resource, request.version, Buffer.from(json).toString('utf8'));
    });
    return {
      ...(upgraded ? { upgraded_state: this.encodeBlock(resource.schema.block, upgraded) } : {}),
      diagnostics: toProto(diagnostics),
    };
  }

  async ReadResource(request: wire.ReadResourceRequest): Promise<wire.ReadResourceResponse> {
    const diagnostics = new Diagnostics();
    const resource = this.resource(request.type_name);
    const block = resource.schema.block;
    let newState: wire.ProtoDynamicValue | null = request.current_state;
    await this.guard(diagnostics, `${request.type_name} read`, block, async () => {
      const state = this.decodeBlock(block, request.current_state);
      const read = await resource.read({ state, ...this.operation(diagnostics) });
      newState = this.encodeBlock(block, read === null ? null : this.finishState(block, read, `${request.type_name} read`, diagnostics));
    });
    return { new_state: newState ?? undefined, private: request.private, diagnostics: toProto(diagnostics) };
  }

  async PlanResourceChange(request: wire.PlanResourceChangeRequest): Promise<wire.PlanResourceChangeResponse> {
    const diagnostics = new Diagnostics();
    const resource = this.resource(request.type_name);
    const block = resource.schema.block;
    let plannedState: wire.ProtoDynamicValue | null = request.proposed_new_state;
    const requiresReplace: AttributePath[] = [];
    await this.guard(diagnostics, `${request.type_name} plan`, block, async () => {
      const prior = this.decodeOptionalBlock(block, request.prior_state);
      const proposed = this.decodeOptionalBlock(block, request.proposed_new_state);
      if (proposed === null) {
        // destroy: nothing to decide (plan_destroy lets terraform ask, for future safety checks)
        plannedState = this.encodeBlock(block, null);
        return;
      }
      const config = this.decodeConfig(block, request.config);
      const plan = planChange(block, prior, proposed, config);
      requiresReplace.push(...plan.requiresReplace);
      if (resource.modifyPlan) {
        await resource.modifyPlan({
          config,
          prior,
          planned: plan.planned,
          requireReplace: (path: AttributePath | string) => requiresReplace.push(typeof path === 'string' ? [path] : path),
          ...this.operation(diagnostics),
        });
        clearWriteOnly(block, plan.planned);
      }
      diagnostics.add(...checkPlanAgainstConfig(block, config, plan.planned, request.type_name));
      plannedState = this.encodeBlock(block, plan.planned);
    });
    return {
      planned_state: plannedState ?? undefined,
      requires_replace: requiresReplace.map(pathToProto),
      planned_private: request.prior_private,
      diagnostics: toProto(diagnostics),
    };
  }

  async ApplyResourceChange(request: wire.ApplyResourceChangeRequest): Promise<wire.ApplyResourceChangeResponse> {
    const diagnostics = new Diagnostics();
    const resource = this.resource(request.type_name);
    const block = resource.schema.block;
    // On failure terraform keeps what we return: nothing for a failed create, the prior state otherwise.
    let newState: wire.ProtoDynamicValue | null = request.prior_state;
    await this.guard(diagnostics, `${request.type_name} apply`, block, async () => {
      const prior = this.decodeOptionalBlock(block, request.prior_state);
      const planned = this.decodeOptionalBlock(block, request.planned_state);
      if (planned === null) {
        await this.guard(diagnostics, `${request.type_name} delete`, block, async () => {
          await resource.delete({ state: prior, ...this.operation(diagnostics) });
          newState = this.encodeBlock(block, null);
        });
        return;
      }
      const config = this.decodeConfig(block, request.config);
      const operation = `${request.type_name} ${prior === null ? 'create' : 'update'}`;
      await this.guard(diagnostics, operation, block, async () => {
        const result =
          prior === null ? await resource.create({ planned, config, ...this.operation(diagnostics) }) : await this.update(resource, { prior, planned, config, ...this.operation(diagnostics) });
        const state = completeBlockValue(block, result);
        clearWriteOnly(block, state);
        const problems = checkNewState(block, planned, state, operation);
        diagnostics.add(...problems);
        newState = this.encodeBlock(block, problems.length > 0 ? (unknownsToNull(state) as BlockValue) : state);
      });
    });
    return { new_state: newState ?? undefined, private: request.planned_private, diagnostics: toProto(diagnostics) };
  }

  private async update(resource: AnyResource, request: Parameters<NonNullable<AnyResource['update']>>[0]): Promise<unknown> {
    if (!resource.update) {
      throw new Error(`${resource.typeName} cannot be updated in place; its schema must mark every configurable attribute requiresReplace`);
    }
    return resource.update(request);
  }

  async ImportResourceState(request: wire.ImportResourceStateRequest): Promise<wire.ImportResourceStateResponse> {
    const diagnostics = new Diagnostics();
    const resource = this.resource(request.type_name);
    const block = resource.schema.block;
    let imported: BlockValue | undefined;
    await this.guard(diagnostics, `${request.type_name} import`, block, async () => {
      let partial: unknown;
      if (resource.importState) {
        partial = await resource.importState({ id: request.id, ...this.operation(diagnostics) });
      } else if ('id' in block.attributes) {
        partial = { id: request.id };
      } else {
        throw new OrbitError(`${request.type_name} cannot be imported`, { fix: 'create it with terraform instead' });
      }
      imported = unknownsToNull(completeBlockValue(block, partial)) as BlockValue;
      clearWriteOnly(block, imported);
    });
    return {
      imported_resources: imported ? [{ type_name: request.type_name, state: this.encodeBlock(block, imported) }] : [],
      diagnostics: toProto(diagnostics),
    };
  }

  async ReadDataSource(request: wire.ReadDataSourceRequest): Promise<wire.ReadDataSourceResponse> {
    const diagnostics = new Diagnostics();
    const dataSource = this.dataSource(request.type_name);
    const block = dataSource.schema.block;
    let state: wire.ProtoDynamicValue | undefined;
    await this.guard(diagnostics, `data.${request.type_name} read`, block, async () => {
      const config = this.decodeConfig(block, request.config);
      const read = await dataSource.read({ config, ...this.operation(diagnostics) });
      const complete = this.finishState(block, read, `data.${request.type_name} read`, diagnostics);
      diagnostics.add(...checkPlanAgainstConfig(block, config, complete, `data.${request.type_name}`));
      if (!diagnostics.hasErrors()) state = this.encodeBlock(block, complete);
    });
    return { ...(state ? { state } : {}), diagnostics: toProto(diagnostics) };
  }

  async StopProvider(): Promise<wire.StopProviderResponse> {
    this.logger.info('StopProvider: cancelling running operations');
    this.cancellation.stopAll();
    return { Error: '' };
  }

  private operation(diagnostics: Diagnostics): OperationContext {
    if (!this.configured) throw new Error('the provider was used before terraform configured it (ConfigureProvider)');
    return { provider: this.configured.data, signal: this.cancellation.signal, diagnostics, logger: this.logger };
  }

  /** Completes a state returned by resource code and makes sure it is wholly known. */
  private finishState(block: BlockSchema, value: unknown, operation: string, diagnostics: Diagnostics): BlockValue {
    const state = completeBlockValue(block, value);
    clearWriteOnly(block, state);
    const unknownAt = firstUnknownPath(state);
    if (unknownAt) {
      diagnostics.error(`${operation} returned no value for an attribute`, 'This is a bug in the Orbit provider; please report it.', unknownAt);
      return unknownsToNull(state) as BlockValue;
    }
    return state;
  }

  /** Runs `work`, turning anything it throws into a diagnostic. */
  private async guard(diagnostics: Diagnostics, operation: string, block: BlockSchema, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const diagnostic = errorToDiagnostic(error, { block, operation });
      if (!(error instanceof OrbitError)) {
        this.logger.error(`${operation} failed`, { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
      diagnostics.add(diagnostic);
    }
  }

  private resource(typeName: string): AnyResource {
    const resource = this.resources.get(typeName);
    if (!resource) throw new Error(`the Orbit provider has no resource type ${typeName}`);
    return resource;
  }

  private dataSource(typeName: string): AnyDataSource {
    const dataSource = this.dataSources.get(typeName);
    if (!dataSource) throw new Error(`the Orbit provider has no data source ${typeName}`);
    return dataSource;
  }

  private decodeOptionalBlock(block: BlockSchema, value: wire.ProtoDynamicValue | null): BlockValue | null {
    const type = blockValueType(block);
    if (!value) return null;
    const decoded =
      value.msgpack && value.msgpack.length > 0
        ? decodeMsgpack(type, value.msgpack)
        : value.json && value.json.length > 0
          ? fromJsonValue(type, JSON.parse(Buffer.from(value.json).toString('utf8')))
          : null;
    return decoded === null ? null : completeBlockValue(block, decoded);
  }

  private decodeBlock(block: BlockSchema, value: wire.ProtoDynamicValue | null): BlockValue {
    return this.decodeOptionalBlock(block, value) ?? completeBlockValue(block, {});
  }

  /** Configuration comes from the user: a value Orbit cannot take is their error to fix, not a provider bug. */
  private decodeConfig(block: BlockSchema, value: wire.ProtoDynamicValue | null): BlockValue {
    try {
      return this.decodeBlock(block, value);
    } catch (error) {
      if (!(error instanceof ValueTypeError)) throw error;
      throw new OrbitError(`Invalid value for ${formatPath(error.path)}`, { attribute: error.path, detail: error.problem });
    }
  }

  private encodeBlock(block: BlockSchema, value: BlockValue | null): wire.ProtoDynamicValue {
    return { msgpack: Buffer.from(encodeMsgpack(blockValueType(block), value === null ? null : completeBlockValue(block, value))) };
  }
}

function toProto(diagnostics: Diagnostics): ProtoDiagnostic[] {
  return diagnostics.items.map((d: Diagnostic) => diagnosticToProto(d));
}

/** Provider configuration is not planned, so its defaults are applied here. */
function applyProviderDefaults(block: BlockSchema, config: BlockValue): void {
  visitAttributes(block, config, ({ attribute, name, container }) => {
    if (attribute.default !== undefined && container[name] === null) container[name] = attribute.default;
  });
}

function rejectWriteOnly(block: BlockSchema, config: BlockValue, diagnostics: Diagnostics): void {
  visitAttributes(block, config, ({ attribute, path }) => {
    if (attribute.writeOnly) diagnostics.error('Data sources cannot have write-only attributes', undefined, path);
  });
}
