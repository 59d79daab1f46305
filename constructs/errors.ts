/**
 * Validation messages in one shape, for errors thrown at construct time and for the error
 * annotations the policies attach: what is wrong, the bad value, what is allowed, and the fix.
 *
 *   HighlyAvailableVm "web": heartbeatMisses must be a whole number from 1 to 100.
 *   Got heartbeatMisses = 0. Allowed: 1-100. Fix: use 3 (the default) or leave it unset.
 */
import { IConstruct } from 'constructs';

export interface Problem {
  /** What is wrong, as a sentence (without the construct path). */
  readonly what: string;
  /** The prop (or attribute) at fault. */
  readonly prop?: string;
  /** The value it has. Rendered with JSON.stringify. */
  readonly value?: unknown;
  /** What would be accepted. */
  readonly allowed?: string;
  /** What to change. */
  readonly fix: string;
}

/** The problem as one message (no construct path: annotations carry it, errors add it). */
export function describeProblem(problem: Problem): string {
  const parts = [sentence(problem.what)];
  if (problem.prop !== undefined) parts.push(`Got ${problem.prop} = ${render(problem.value)}.`);
  if (problem.allowed !== undefined) parts.push(`Allowed: ${sentence(problem.allowed)}`);
  parts.push(`Fix: ${sentence(problem.fix)}`);
  return parts.join(' ');
}

/**
 * A prop that is wrong on its own, thrown while the construct is created. The message starts
 * with the construct path, so the stack trace is not needed to find the culprit.
 */
export class OrbitValidationError extends Error {
  /** Path of the construct at fault, e.g. "stack/web". */
  public readonly constructPath: string;
  public readonly problem: Problem;

  constructor(scope: IConstruct, problem: Problem) {
    super(`[${scope.node.path}] ${describeProblem(problem)}`);
    this.name = 'OrbitValidationError';
    this.constructPath = scope.node.path;
    this.problem = problem;
  }
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function render(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
