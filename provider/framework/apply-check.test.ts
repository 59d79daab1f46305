import { t } from '../protocol/cty-type';
import { checkNewState } from './apply-check';
import { block, nested, optional, required, schema } from './schema-builder';

const inner = block({ attributes: { user_data: required(t.string, { sensitive: true }), label: optional(t.string) } });
const vmSchema = schema({ attributes: { password: optional(t.string, { sensitive: true }), name: required(t.string) }, blocks: { seed: nested.list(inner, { maxItems: 1 }) } });

test('a mismatch names the attribute and both values, but never a sensitive one, at any depth', () => {
  const planned = { password: 'hunter2-planned', name: 'a', seed: [{ user_data: 'secret-planned', label: 'x' }] };
  const actual = { password: 'hunter2-actual', name: 'a', seed: [{ user_data: 'secret-actual', label: 'y' }] };
  const problems = checkNewState(vmSchema.block, planned, actual, 'orbit_vm update');
  expect(problems.map((p) => p.summary)).toEqual(['orbit_vm update produced a different password than planned', 'orbit_vm update produced a different seed than planned']);
  const text = JSON.stringify(problems);
  for (const secret of ['hunter2-planned', 'hunter2-actual', 'secret-planned', 'secret-actual']) expect(text).not.toContain(secret);
  expect(problems[1].detail).toContain('Planned: [{"user_data":"(sensitive value)","label":"x"}]\nResult:  [{"user_data":"(sensitive value)","label":"y"}]');
});
