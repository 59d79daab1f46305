/**
 * orbit_disk through the real terraform binary and the installed provider, on a lab host:
 * create, quiet re-plan, grow in place, shrink refused at plan time, a format change refused
 * (taint to start over), drift after out-of-band changes, a file that is already there, import,
 * destroy.
 * What the host really has is checked over a separate SSH connection.
 */
import { LabTerraform, setUpLabTerraform, uniqueName } from '../support/lab-terraform';
import { RunResult, Workspace } from '../support/terraform';

jest.setTimeout(240_000);

const HOST = 'site-a';
const DIR = '/var/lib/orbit/disks';

describe('orbit_disk on a lab host', () => {
  let lab: LabTerraform;
  let ws: Workspace;
  const name = uniqueName('tf-disk');

  const configure = (size: number, format = 'qcow2') =>
    ws.write('disk.tf', `resource "orbit_disk" "data" {\n  host     = "${HOST}"\n  name     = "${name}"\n  size_mib = ${size}\n  format   = "${format}"\n}\n`);
  /** virtual size in MiB and inode of the image on the host, or null when it is not there. */
  const onHost = async (format: string) => {
    const file = `${DIR}/${name}.${format}`;
    const result = await lab.ssh(HOST, `[ -e ${file} ] || exit 7; stat -c %i ${file}; qemu-img info -U --output=json -f ${format} ${file}`);
    if (result.code === 7) return null;
    const [inode, ...json] = result.stdout.split('\n');
    return { sizeMib: (JSON.parse(json.join('\n')) as { 'virtual-size': number })['virtual-size'] / (1024 * 1024), inode };
  };
  const expectNoChanges = async () => {
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.output).toContain('No changes.');
    expect(plan.code).toBe(0);
  };
  /** Terraform wraps diagnostics at 80 columns: compare with whitespace runs made single spaces. */
  const flat = (result: RunResult) => result.output.replace(/\s+/g, ' ');
  const ok = (result: RunResult) => {
    if (result.code !== 0) throw new Error(`terraform failed (${result.code}):\n${result.output}`);
    return result;
  };

  beforeAll(async () => {
    lab = await setUpLabTerraform();
    ws = lab.workspace('', { only: [HOST, 'site-b'] });
    ok(await ws.run(['init']));
  });

  afterAll(async () => {
    await lab?.ssh(HOST, `rm -f ${DIR}/${name}.qcow2 ${DIR}/${name}.raw`);
    lab?.cleanup();
  });

  test('apply creates the image on the host; a second plan is quiet', async () => {
    configure(64);
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain(`+ path              = "${DIR}/${name}.qcow2"`);
    expect(plan.output).toContain(`+ id                = "${HOST}/${name}"`);
    ok(await ws.run(['apply', '-auto-approve']));
    expect(await onHost('qcow2')).toMatchObject({ sizeMib: 64 });
    expect(ws.state().resources[0].instances[0].attributes).toMatchObject({ id: `${HOST}/${name}`, size_mib: 64, format: 'qcow2', path: `${DIR}/${name}.qcow2` });
    await expectNoChanges();
  });

  test('growing resizes the same file in place', async () => {
    const before = await onHost('qcow2');
    configure(96);
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('~ update in-place');
    expect(plan.output).toContain('~ size_mib          = 64 -> 96');
    ok(await ws.run(['apply', '-auto-approve']));
    expect(await onHost('qcow2')).toEqual({ sizeMib: 96, inode: before!.inode });
    await expectNoChanges();
  });

  test('shrinking fails the plan, naming the attribute, both sizes and the fix; nothing changes', async () => {
    configure(32);
    const plan = await ws.run(['apply', '-auto-approve']);
    expect(flat(plan)).toContain('Error: size_mib cannot shrink from 96 to 32 with orbit_disk.data');
    expect(flat(plan)).toContain('Attribute: size_mib Value: 32 Allowed: 96 or more (disks only grow in place)');
    expect(flat(plan)).toMatch(/Fix: keep size_mib at 96 or more; .* terraform taint ADDRESS && terraform apply/);
    expect(plan.code).toBe(1);
    expect(await onHost('qcow2')).toMatchObject({ sizeMib: 96 });
  });

  test('changing the format is refused, naming the file that holds the data; taint is the explicit way to start over', async () => {
    const before = await onHost('qcow2');
    configure(96, 'raw');
    const plan = await ws.run(['plan']);
    expect(plan.code).toBe(1);
    expect(flat(plan)).toContain(`Error: orbit_disk "${name}" cannot change its format: qcow2 -> raw`);
    expect(flat(plan)).toContain(`${DIR}/${name}.qcow2 on host "${HOST}" would be deleted with its data`);
    expect(await onHost('qcow2')).toEqual(before);

    ok(await ws.run(['taint', 'orbit_disk.data']));
    const replace = ok(await ws.run(['plan']));
    expect(replace.output).toContain('is tainted, so must be replaced');
    ok(await ws.run(['apply', '-auto-approve']));
    expect(await onHost('qcow2')).toBeNull();
    expect(await onHost('raw')).toMatchObject({ sizeMib: 96 });
    await expectNoChanges();
  });

  test('an out-of-band resize shows as drift and apply puts it back', async () => {
    await lab.ssh(HOST, `qemu-img resize -q --shrink -f raw ${DIR}/${name}.raw 40M`);
    const refresh = ok(await ws.run(['plan', '-refresh-only']));
    expect(refresh.output).toContain('Terraform detected the following changes made outside of Terraform');
    expect(refresh.output).toContain('~ size_mib          = 96 -> 40');
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('~ size_mib          = 40 -> 96');
    ok(await ws.run(['apply', '-auto-approve']));
    expect(await onHost('raw')).toMatchObject({ sizeMib: 96 });
    await expectNoChanges();
  });

  test("a disk deleted behind terraform's back is planned again", async () => {
    await lab.ssh(HOST, `rm ${DIR}/${name}.raw`);
    const plan = ok(await ws.run(['plan']));
    expect(plan.output).toContain('# orbit_disk.data will be created');
    ok(await ws.run(['apply', '-auto-approve']));
    expect(await onHost('raw')).toMatchObject({ sizeMib: 96 });
  });

  test('create refuses to overwrite a file it did not make; import adopts it', async () => {
    ok(await ws.run(['state', 'rm', 'orbit_disk.data']));
    const before = await onHost('raw');
    const apply = await ws.run(['apply', '-auto-approve']);
    expect(apply.code).toBe(1);
    expect(flat(apply)).toContain(`Error: A disk file already exists at ${DIR}/${name}.raw on host "${HOST}"`);
    expect(flat(apply)).toContain(`Fix: to manage that disk, import it: terraform import ADDRESS ${HOST}/${name}`);
    expect(await onHost('raw')).toEqual(before);

    const imported = ok(await ws.run(['import', 'orbit_disk.data', `${HOST}/${name}`]));
    expect(imported.output).toContain('Import successful!');
    expect(ws.state().resources[0].instances[0].attributes).toMatchObject({ id: `${HOST}/${name}`, format: 'raw', size_mib: 96 });
    await expectNoChanges();
  });

  test('destroy removes the file from the host', async () => {
    ok(await ws.run(['destroy', '-auto-approve']));
    expect(await onHost('raw')).toBeNull();
    expect(ws.state().resources).toEqual([]);
    // and a plan afterwards wants it back, without an error from the missing file
    expect(ok(await ws.run(['plan'])).output).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
  });
});
