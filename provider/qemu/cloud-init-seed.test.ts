import { seedInstanceId, seedMetaData, seedPath } from './cloud-init-seed';

const seed = { userData: '#cloud-config\nhostname: web-1\n' };

test('the instance id follows the content: the same seed, the same id; any edit, a new one', () => {
  expect(seedInstanceId('web-1', seed)).toMatch(/^web-1-[0-9a-f]{12}$/);
  expect(seedInstanceId('web-1', { ...seed })).toBe(seedInstanceId('web-1', seed));
  const ids = new Set([
    seedInstanceId('web-1', seed),
    seedInstanceId('web-1', { userData: `${seed.userData}# edited\n` }),
    seedInstanceId('web-1', { ...seed, metaData: 'local-hostname: other\n' }),
    seedInstanceId('web-1', { ...seed, networkConfig: 'version: 2\n' }),
    seedInstanceId('web-2', seed),
  ]);
  expect(ids.size).toBe(5);
});

test('meta-data starts with the instance id; without meta_data the hostname is the VM name; an instance-id of its own is refused', () => {
  expect(seedMetaData('web-1', seed)).toBe(`instance-id: ${seedInstanceId('web-1', seed)}\nlocal-hostname: web-1\n`);
  const own = { ...seed, metaData: 'local-hostname: db\n' };
  expect(seedMetaData('web-1', own)).toBe(`instance-id: ${seedInstanceId('web-1', own)}\nlocal-hostname: db\n`);
  expect(() => seedMetaData('web-1', { ...seed, metaData: 'local-hostname: db\n  instance-id: mine\n' })).toThrow(/Orbit derives it from the seed/);
});

test('the seed lives with the VM', () => {
  expect(seedPath('web-1')).toBe('/var/lib/orbit/web-1/cidata.iso');
});
