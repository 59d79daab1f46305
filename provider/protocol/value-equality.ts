/** Comparing terraform values the way terraform does (sets ignore order, numbers by value). */
import { CtyType, typeToJson } from './cty-type';
import { DynamicValue } from './dynamic-value';

/** True when both values are wholly known and equal. An unknown value equals nothing, not even another unknown. */
export function valuesEqual(type: CtyType, a: unknown, b: unknown): boolean {
  return compare(type, a, b, false);
}

/** True when both values are equal, unknown parts included (an unknown equals an unknown in the same place). */
export function valuesIdentical(type: CtyType, a: unknown, b: unknown): boolean {
  return compare(type, a, b, true);
}

function compare(type: CtyType, a: unknown, b: unknown, unknownEqualsUnknown: boolean): boolean {
  if (a === undefined || b === undefined) return unknownEqualsUnknown && a === b;
  if (a === null || b === null) return a === b;
  const same = (t: CtyType, x: unknown, y: unknown) => compare(t, x, y, unknownEqualsUnknown);
  switch (type.kind) {
    case 'string':
    case 'bool':
      return a === b;
    case 'number':
      return Number(a) === Number(b);
    case 'list':
      return sameLength(a, b) && (a as unknown[]).every((x, i) => same(type.element, x, (b as unknown[])[i]));
    case 'tuple':
      return sameLength(a, b) && (a as unknown[]).every((x, i) => same(type.elements[i], x, (b as unknown[])[i]));
    case 'set':
      return setsEqual(type.element, a as unknown[], b as unknown[], same);
    case 'map':
      return sameKeys(a, b) && Object.entries(a as object).every(([k, v]) => same(type.element, v, (b as Record<string, unknown>)[k]));
    case 'object':
      return Object.entries(type.attributes).every(([k, t]) => same(t, nullIfMissing(a as Record<string, unknown>, k), nullIfMissing(b as Record<string, unknown>, k)));
    case 'dynamic': {
      const da = a instanceof DynamicValue ? a : DynamicValue.of(a);
      const db = b instanceof DynamicValue ? b : DynamicValue.of(b);
      return JSON.stringify(typeToJson(da.type)) === JSON.stringify(typeToJson(db.type)) && same(da.type, da.value, db.value);
    }
  }
}

function nullIfMissing(object: Record<string, unknown>, key: string): unknown {
  return key in object ? object[key] : null;
}

/** True when the value and everything inside it is known. */
export function isWhollyKnown(value: unknown): boolean {
  if (value === undefined) return false;
  if (value === null || typeof value !== 'object') return true;
  if (value instanceof DynamicValue) return isWhollyKnown(value.value);
  if (Array.isArray(value)) return value.every(isWhollyKnown);
  return Object.values(value).every(isWhollyKnown);
}

/**
 * True when `actual` is a possible outcome of `planned`: every known part of the plan is
 * equal in `actual`; unknown parts may have become anything.
 */
export function conformsToPlan(type: CtyType, planned: unknown, actual: unknown): boolean {
  if (planned === undefined) return true;
  if (isWhollyKnown(planned)) return valuesEqual(type, planned, actual);
  if (actual === null || actual === undefined) return false;
  switch (type.kind) {
    case 'list':
      return sameLength(planned, actual) && (planned as unknown[]).every((p, i) => conformsToPlan(type.element, p, (actual as unknown[])[i]));
    case 'tuple':
      return sameLength(planned, actual) && (planned as unknown[]).every((p, i) => conformsToPlan(type.elements[i], p, (actual as unknown[])[i]));
    case 'map':
      return sameKeys(planned, actual) && Object.entries(planned as object).every(([k, p]) => conformsToPlan(type.element, p, (actual as Record<string, unknown>)[k]));
    case 'object':
      return Object.entries(type.attributes).every(([k, t]) => conformsToPlan(t, nullIfMissing(planned as Record<string, unknown>, k), nullIfMissing(actual as Record<string, unknown>, k)));
    case 'dynamic':
      return planned instanceof DynamicValue && actual instanceof DynamicValue ? conformsToPlan(planned.type, planned.value, actual.value) : true;
    default:
      // sets with unknown elements may collapse or grow; terraform accepts any known set
      return true;
  }
}

function sameLength(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length;
}

function sameKeys(a: unknown, b: unknown): boolean {
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k));
}

function setsEqual(element: CtyType, a: unknown[], b: unknown[], same: (t: CtyType, x: unknown, y: unknown) => boolean): boolean {
  const unique = (xs: unknown[]) => xs.filter((x, i) => xs.findIndex((y) => same(element, x, y)) === i);
  const ua = unique(a);
  const ub = unique(b);
  return ua.length === ub.length && ua.every((x) => ub.some((y) => same(element, x, y)));
}
