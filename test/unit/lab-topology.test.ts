import { DEFAULT_HOSTS, parseHostSpecs } from '../../scripts/lab/topology';

describe('lab host list', () => {
  it('defaults to site-a, site-b and a witness', () => {
    expect(parseHostSpecs(undefined)).toEqual(DEFAULT_HOSTS);
    expect(DEFAULT_HOSTS.map((h) => h.name)).toEqual(['site-a', 'site-b', 'witness']);
  });

  it('parses name:site pairs', () => {
    expect(parseHostSpecs('a1:a, b1:b')).toEqual([
      { name: 'a1', site: 'a' },
      { name: 'b1', site: 'b' },
    ]);
  });

  it.each([
    ['missing site', 'a1'],
    ['upper case', 'A1:a'],
    ['too long for an interface name', 'abcdefghijklm:a'],
    ['duplicate names', 'a1:a,a1:b'],
    ['reserved name', 'etcd:x'],
  ])('rejects %s with a message that shows the expected form', (_why, text) => {
    expect(() => parseHostSpecs(text)).toThrow(/name:site|unique|reserved/);
  });
});
