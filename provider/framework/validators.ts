/**
 * Reusable attribute validators. Each throws an OrbitError that names the attribute, the
 * bad value, what is allowed and how to fix it.
 */
import { AttributePath, formatPath } from '../protocol/attribute-path';
import { AttributeValidator } from '../protocol/schema';
import { OrbitError } from './errors';

export function oneOf<V extends string | number>(allowed: readonly V[], fix?: string): AttributeValidator<V> {
  return (value, path) => {
    if (!allowed.includes(value)) {
      throw new OrbitError(`Invalid value for ${formatPath(path)}`, {
        attribute: path,
        value,
        allowed: allowed.map(String),
        fix: fix ?? `set ${formatPath(path)} to one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
      });
    }
  };
}

export function between(min: number, max: number, fix?: string): AttributeValidator<number> {
  return (value, path) => {
    if (!(value >= min && value <= max)) {
      throw new OrbitError(`${formatPath(path)} is out of range`, {
        attribute: path,
        value,
        allowed: `a number from ${min} to ${max}`,
        fix: fix ?? `set ${formatPath(path)} to a value from ${min} to ${max}`,
      });
    }
  };
}

export function integer(): AttributeValidator<number> {
  return (value, path) => {
    if (!Number.isInteger(value)) {
      throw new OrbitError(`${formatPath(path)} must be a whole number`, {
        attribute: path,
        value,
        allowed: 'a whole number',
        fix: `use ${Math.round(value)} instead of ${value}`,
      });
    }
  };
}

/** The value matches `pattern`; `described` says in words what is allowed, `example` shows one. */
export function matches(pattern: RegExp, described: string, example?: string): AttributeValidator<string> {
  return (value, path) => {
    if (!pattern.test(value)) {
      throw new OrbitError(`Invalid value for ${formatPath(path)}`, {
        attribute: path,
        value,
        allowed: described,
        fix: example ? `use a value like ${JSON.stringify(example)}` : `change ${formatPath(path)} to ${described}`,
      });
    }
  };
}

export function lengthBetween(min: number, max: number): AttributeValidator<string | unknown[]> {
  return (value, path: AttributePath) => {
    if (value.length < min || value.length > max) {
      const unit = typeof value === 'string' ? 'characters' : 'elements';
      throw new OrbitError(`${formatPath(path)} has ${value.length} ${unit}`, {
        attribute: path,
        value,
        allowed: `${min} to ${max} ${unit}`,
        fix: `give ${formatPath(path)} between ${min} and ${max} ${unit}`,
      });
    }
  };
}
