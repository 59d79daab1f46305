/**
 * Construct-time checks of single props. Values that are tokens (known only at apply time)
 * are skipped: terraform and the provider check them then.
 */
import { Token } from 'cdktf';
import { IConstruct } from 'constructs';
import { OrbitValidationError } from './errors';

/** Throws unless `value` is undefined, a token, or a whole number in [min, max]. */
export function checkWholeNumber(scope: IConstruct, prop: string, value: number | undefined, range: { min: number; max?: number; fix: string }): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(value) || value < range.min || value > max) {
    const allowed = range.max === undefined ? `a whole number, at least ${range.min}` : `a whole number from ${range.min} to ${range.max}`;
    throw new OrbitValidationError(scope, { what: `${prop} must be ${allowed}`, prop, value, allowed, fix: range.fix });
  }
}

/** Throws unless `value` is undefined, a token, or matches `pattern`. */
export function checkPattern(scope: IConstruct, prop: string, value: string | undefined, pattern: RegExp, rule: { allowed: string; fix: string }): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!pattern.test(value)) {
    throw new OrbitValidationError(scope, { what: `${prop} is not valid`, prop, value, allowed: rule.allowed, fix: rule.fix });
  }
}

/** A value set in the configuration and known now (not a token). */
export function isKnown<T>(value: T | undefined): value is T {
  return value !== undefined && !Token.isUnresolved(value);
}
