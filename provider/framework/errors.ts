/**
 * Errors that explain themselves: what went wrong, where (attribute path), the offending
 * value, what is allowed, and how to fix it. Anything thrown by resource code becomes a
 * terraform diagnostic; an OrbitError becomes a complete one.
 */
import { AttributePath, formatPath } from '../protocol/attribute-path';
import { Diagnostic } from '../protocol/diagnostics';
import { attributeAt, BlockSchema } from '../protocol/schema';
import { ValueTypeError } from '../protocol/value-error';

export interface OrbitErrorDetails {
  /** Where: the attribute path (`['hosts', 0, 'host_key']`) or a top-level attribute name. */
  attribute?: AttributePath | string;
  /** The offending value. Leave it out when there is none; it is masked for sensitive attributes. */
  value?: unknown;
  /** What is allowed: a description or a list of values. */
  allowed?: string | readonly string[];
  /** What the user should do. */
  fix?: string;
  /** Anything else worth knowing (shown before the fix). */
  detail?: string;
  cause?: unknown;
}

export class OrbitError extends Error {
  readonly attribute?: AttributePath;
  readonly value?: unknown;
  readonly hasValue: boolean;
  readonly allowed?: string | readonly string[];
  readonly fix?: string;
  readonly detail?: string;

  constructor(what: string, details: OrbitErrorDetails = {}) {
    super(what, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'OrbitError';
    this.attribute = typeof details.attribute === 'string' ? [details.attribute] : details.attribute;
    this.hasValue = 'value' in details;
    this.value = details.value;
    this.allowed = details.allowed;
    this.fix = details.fix;
    this.detail = details.detail;
  }
}

/** Raised into in-flight operations when terraform calls StopProvider (interrupt). */
export class OperationCancelledError extends Error {
  constructor() {
    super('terraform asked the provider to stop (interrupt); the operation was cancelled');
    this.name = 'OperationCancelledError';
  }
}

export interface DiagnosticContext {
  /** Used to mask values of sensitive and write-only attributes. */
  block?: BlockSchema;
  /** Prepended to the summary of errors that are not OrbitErrors, e.g. `orbit_vm.create`. */
  operation?: string;
  /** Prepended to attribute paths (errors thrown inside a nested element). */
  basePath?: AttributePath;
}

export function errorToDiagnostic(error: unknown, context: DiagnosticContext = {}): Diagnostic {
  const base = context.basePath ?? [];
  if (error instanceof OrbitError) {
    const path = error.attribute ? [...base, ...error.attribute] : base.length > 0 ? base : undefined;
    const lines: string[] = [];
    if (path) lines.push(`Attribute: ${formatPath(path)}`);
    if (error.hasValue) lines.push(`Value: ${renderValue(error.value, context.block, path)}`);
    if (error.allowed !== undefined) {
      lines.push(`Allowed: ${typeof error.allowed === 'string' ? error.allowed : error.allowed.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    if (error.detail) lines.push(error.detail);
    if (error.fix) lines.push(`Fix: ${error.fix}`);
    return { severity: 'error', summary: error.message, detail: lines.join('\n'), path };
  }
  if (error instanceof ValueTypeError) {
    return {
      severity: 'error',
      summary: `${context.operation ? `${context.operation}: ` : ''}a value has the wrong type`,
      detail: `${error.message}\n\nThis is a bug in the Orbit provider; please report it.`,
      path: [...base, ...error.path],
    };
  }
  if (error instanceof OperationCancelledError || (error instanceof Error && error.name === 'AbortError')) {
    return {
      severity: 'error',
      summary: `${context.operation ? `${context.operation}: ` : ''}cancelled`,
      detail: 'Terraform asked the provider to stop (interrupt). Run the command again to finish the work; it is safe to re-run.',
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    severity: 'error',
    summary: context.operation ? `${context.operation} failed` : 'The Orbit provider failed',
    detail: message,
    path: base.length > 0 ? base : undefined,
  };
}

function renderValue(value: unknown, block: BlockSchema | undefined, path: AttributePath | undefined): string {
  const attribute = block && path ? attributeAt(block, path) : undefined;
  if (attribute && (attribute.sensitive || attribute.writeOnly)) return '(sensitive value)';
  if (value === undefined) return '(known after apply)';
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ?? String(value);
}
