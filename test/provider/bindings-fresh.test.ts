/**
 * provider/bindings is generated from the provider's schema (`npm run bindings`) and
 * committed. This regenerates it the same way, into a temporary directory, and fails when the
 * committed copy differs: a schema change without new bindings.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BINDINGS_DIR, listFiles, regenerateBindings } from '../../scripts/bindings';

jest.setTimeout(120_000);

test('provider/bindings matches the provider schema (else run `npm run bindings`)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-bindings-fresh-'));
  try {
    const fresh = path.join(dir, 'bindings');
    await regenerateBindings(fresh, { installDir: path.join(dir, 'install'), log: () => undefined });
    const expected = listFiles(fresh);
    const committed = listFiles(BINDINGS_DIR);
    const stale = [
      ...expected.filter((f) => !committed.includes(f)).map((f) => `missing: ${f}`),
      ...committed.filter((f) => !expected.includes(f)).map((f) => `not generated any more: ${f}`),
      ...expected.filter((f) => committed.includes(f) && !fs.readFileSync(path.join(fresh, f)).equals(fs.readFileSync(path.join(BINDINGS_DIR, f)))).map((f) => `differs: ${f}`),
    ];
    if (stale.length > 0) {
      throw new Error(`provider/bindings is stale; run \`npm run bindings\` and commit the result.\n  ${stale.join('\n  ')}`);
    }
    expect(expected.length).toBeGreaterThan(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
