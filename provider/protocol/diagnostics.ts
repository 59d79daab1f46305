import { AttributePath, pathToProto, ProtoAttributePath } from './attribute-path';

export type Severity = 'error' | 'warning';

/** A message for the person running terraform: what happened (summary) and what to do (detail). */
export interface Diagnostic {
  readonly severity: Severity;
  readonly summary: string;
  readonly detail?: string;
  /** The attribute the message is about; terraform then shows the matching line of configuration. */
  readonly path?: AttributePath;
}

/** Collects diagnostics for one request. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];

  error(summary: string, detail?: string, path?: AttributePath): void {
    this.items.push({ severity: 'error', summary, detail, path });
  }

  warning(summary: string, detail?: string, path?: AttributePath): void {
    this.items.push({ severity: 'warning', summary, detail, path });
  }

  add(...diagnostics: Diagnostic[]): void {
    this.items.push(...diagnostics);
  }

  hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}

export interface ProtoDiagnostic {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  attribute?: ProtoAttributePath;
}

export function diagnosticToProto(diagnostic: Diagnostic): ProtoDiagnostic {
  return {
    severity: diagnostic.severity === 'error' ? 'ERROR' : 'WARNING',
    summary: diagnostic.summary,
    detail: diagnostic.detail ?? '',
    ...(diagnostic.path && diagnostic.path.length > 0 ? { attribute: pathToProto(diagnostic.path) } : {}),
  };
}
