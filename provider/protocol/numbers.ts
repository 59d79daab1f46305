import { AttributePath } from './attribute-path';
import { ValueTypeError } from './value-error';

/**
 * Terraform numbers are arbitrary precision; Orbit models them as JavaScript numbers. A value
 * that a JavaScript number cannot hold exactly (an integer beyond ±2^53) is rejected with a
 * clear error rather than silently rounded.
 */
export function numberFromWire(raw: unknown, path: AttributePath): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') {
    if (raw > BigInt(Number.MAX_SAFE_INTEGER) || raw < BigInt(Number.MIN_SAFE_INTEGER)) throw tooLarge(String(raw), path);
    return Number(raw);
  }
  if (typeof raw === 'string') {
    const trimmed = raw.trim();
    if (/^[-+]?\d+$/.test(trimmed) && !Number.isSafeInteger(Number(trimmed))) throw tooLarge(trimmed, path);
    const n = Number(trimmed);
    if (trimmed === '' || Number.isNaN(n)) throw new ValueTypeError(path, `expected a number, got the string ${JSON.stringify(raw)}`);
    return n;
  }
  throw new ValueTypeError(path, `expected a number, got ${describeRaw(raw)}`);
}

/**
 * The wire form of a number: integers as msgpack ints (bigint beyond 32 bits so they stay
 * ints), other finite numbers as their shortest decimal string. Terraform parses that string
 * exactly like the literal `0.1` in a configuration, so a value read from config and sent back
 * compares equal to it (a float64 0.1 would not).
 */
export function numberToWire(value: unknown, path: AttributePath): number | bigint | string {
  if (typeof value === 'bigint') {
    if (value > 0xffffffffffffffffn || value < -0x8000000000000000n) {
      throw new ValueTypeError(path, `the number ${value} does not fit in 64 bits`);
    }
    return value;
  }
  if (typeof value !== 'number') throw new ValueTypeError(path, `expected a number, got ${describeRaw(value)}`);
  if (Number.isNaN(value)) throw new ValueTypeError(path, 'NaN is not a terraform number');
  if (!Number.isFinite(value)) return value;
  if (Number.isInteger(value)) {
    if (Number.isSafeInteger(value)) return Math.abs(value) < 2 ** 31 ? value : BigInt(value);
    return String(value);
  }
  return String(value);
}

function tooLarge(text: string, path: AttributePath): ValueTypeError {
  return new ValueTypeError(path, `the number ${text} is larger than Orbit handles exactly (allowed: integers between -9007199254740991 and 9007199254740991)`);
}

export function describeRaw(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'a list';
  if (raw instanceof Uint8Array) return 'binary data';
  if (typeof raw === 'object') return 'an object';
  return `the ${typeof raw} ${JSON.stringify(typeof raw === 'bigint' ? String(raw) : raw)}`;
}
