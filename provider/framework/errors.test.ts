import { t } from '../protocol/cty-type';
import { ValueTypeError } from '../protocol/value-error';
import { errorToDiagnostic, OperationCancelledError, OrbitError } from './errors';
import { block, nested, optional, required } from './schema-builder';
import { oneOf } from './validators';

const hostBlock = block({
  blocks: { hosts: nested.list(block({ attributes: { name: required(t.string), private_key: optional(t.string, { sensitive: true }) } })) },
});

describe('errors as diagnostics', () => {
  test('an OrbitError says what, where, the value, what is allowed and the fix', () => {
    const diagnostic = errorToDiagnostic(new OrbitError('Host "a" has no pinned host key', { attribute: ['hosts', 0, 'name'], value: 'a', allowed: ['x', 'y'], fix: 'pin it' }), { block: hostBlock });
    expect(diagnostic).toEqual({
      severity: 'error',
      summary: 'Host "a" has no pinned host key',
      detail: 'Attribute: hosts[0].name\nValue: "a"\nAllowed: "x", "y"\nFix: pin it',
      path: ['hosts', 0, 'name'],
    });
  });

  test('values of sensitive attributes are masked', () => {
    const diagnostic = errorToDiagnostic(new OrbitError('bad key', { attribute: ['hosts', 0, 'private_key'], value: '-----BEGIN' }), { block: hostBlock });
    expect(diagnostic.detail).toContain('Value: (sensitive value)');
    expect(diagnostic.detail).not.toContain('BEGIN');
  });

  test('validators produce OrbitErrors', () => {
    expect(() => oneOf<string>(['a', 'b'])('c', ['mode'])).toThrow(OrbitError);
    try {
      oneOf<string>(['a', 'b'])('c', ['mode']);
    } catch (error) {
      expect(errorToDiagnostic(error).detail).toBe('Attribute: mode\nValue: "c"\nAllowed: "a", "b"\nFix: set mode to one of "a", "b"');
    }
  });

  test('other errors name the operation', () => {
    expect(errorToDiagnostic(new Error('connection refused'), { operation: 'orbit_vm create' })).toEqual({
      severity: 'error',
      summary: 'orbit_vm create failed',
      detail: 'connection refused',
      path: undefined,
    });
    expect(errorToDiagnostic(new ValueTypeError(['size'], 'expected a number'), { operation: 'orbit_vm read' })).toMatchObject({
      summary: 'orbit_vm read: a value has the wrong type',
      path: ['size'],
    });
    expect(errorToDiagnostic(new OperationCancelledError(), { operation: 'orbit_vm create' }).summary).toBe('orbit_vm create: cancelled');
  });
});
