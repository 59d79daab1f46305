import * as fs from 'fs';
import * as path from 'path';
import { DOCS_DIR, renderDocs } from './resource-docs';

describe('provider resource docs', () => {
  const pages = renderDocs();

  test('one page per resource and data source, plus the provider page', () => {
    expect([...pages.keys()].sort()).toEqual(expect.arrayContaining(['index.md', 'resources/vm.md', 'resources/ft_vm.md', 'resources/disk.md', 'data-sources/host.md']));
  });

  test('pages carry the schema descriptions', () => {
    const ftVm = pages.get('resources/ft_vm.md')!;
    expect(ftVm).toContain('# orbit_ft_vm (Resource)');
    expect(ftVm).toMatch(/- `secondary_host` \(string\) The host of the lock-stepped replica/);
    expect(ftVm).toContain('### Read-Only');
  });

  test('the committed docs are fresh (regenerate: npx ts-node --transpile-only scripts/resource-docs.ts)', () => {
    const stale = [...pages].filter(([rel, content]) => {
      const file = path.join(DOCS_DIR, rel);
      return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== content;
    });
    expect(stale.map(([rel]) => `docs/${rel}`)).toEqual([]);
  });
});
