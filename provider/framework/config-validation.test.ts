import { t } from '../protocol/cty-type';
import { Diagnostics } from '../protocol/diagnostics';
import { completeBlockValue } from '../protocol/schema';
import { validateConfigValues } from './config-validation';
import { block, nested, optional, required } from './schema-builder';
import { between } from './validators';

const example = block({
  attributes: {
    old_name: optional(t.string, { deprecated: 'use name instead' }),
    tags: optional(t.list(t.string)),
  },
  blocks: { port: nested.list(block({ attributes: { number: required(t.number, { validators: [between(1, 65535)] }) } })) },
});

describe('configuration validation', () => {
  test('deprecated attributes warn with the replacement', () => {
    const diagnostics = new Diagnostics();
    validateConfigValues(example, completeBlockValue(example, { old_name: 'x' }), diagnostics);
    expect(diagnostics.items).toEqual([{ severity: 'warning', summary: 'old_name is deprecated', detail: 'use name instead', path: ['old_name'] }]);
  });

  test('validators run on known values in nested blocks, and are skipped for unknown ones', () => {
    const diagnostics = new Diagnostics();
    validateConfigValues(example, completeBlockValue(example, { port: [{ number: 80 }, { number: 0 }, { number: undefined }] }), diagnostics);
    expect(diagnostics.items.map((d) => d.path)).toEqual([['port', 1, 'number']]);
  });

  test('null elements inside collections are refused', () => {
    const diagnostics = new Diagnostics();
    validateConfigValues(example, completeBlockValue(example, { tags: ['a', null] }), diagnostics);
    expect(diagnostics.items[0]).toMatchObject({ summary: 'null is not allowed inside tags', path: ['tags', 1] });
  });
});
