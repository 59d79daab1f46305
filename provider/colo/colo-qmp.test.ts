import { coloPorts } from './colo-command-line';
import {
  primaryChardevSteps,
  primaryFailoverSteps,
  primaryFilterSteps,
  replicationAttachSteps,
  replicationChildSteps,
  replicationOpenSteps,
  runQmpSteps,
  secondaryFailoverSteps,
  secondaryReadySteps,
  ColoStepError,
} from './colo-qmp';
import { QmpClient, QmpError } from '../qemu/qmp-client';

const ports = coloPorts('db-1');
const names = (steps: Array<{ command: string; args?: Record<string, unknown> }>) =>
  steps.map((s) => (s.command === 'human-monitor-command' ? String(s.args!['command-line']).split(' ')[0] : `${s.command}${s.args?.id ? ` ${String(s.args.id)}` : ''}`));

test('secondary failover follows COLO-FT.txt: NBD off, lost heartbeat, then its redirectors and their sockets go', () => {
  expect(names(secondaryFailoverSteps())).toEqual(['nbd-server-stop', 'x-colo-lost-heartbeat', 'object-del f2', 'object-del f1', 'chardev-remove red1', 'chardev-remove red0', 'announce-self']);
});

test('primary failover drops the replication child of every disk, then compare and filters, then the lost heartbeat', () => {
  expect(names(primaryFailoverSteps(2))).toEqual([
    'x-blockdev-change',
    'drive_del',
    'x-blockdev-change',
    'drive_del',
    'object-del comp0',
    'object-del iothread1',
    'object-del m0',
    'object-del redire0',
    'object-del redire1',
    'x-colo-lost-heartbeat',
    'announce-self',
  ]);
  expect(primaryFailoverSteps(1)[0].args).toEqual({ parent: 'colo-disk0', child: 'children.1' });
  // Every step of a failover may find its work done by an earlier attempt.
  // (announce-self has nothing to be "done": it is simply sent again)
  expect(
    primaryFailoverSteps(2)
      .filter((s) => !s.done)
      .map((s) => s.command),
  ).toEqual(['announce-self']);
  expect(
    secondaryFailoverSteps()
      .filter((s) => !s.done)
      .map((s) => s.command),
  ).toEqual(['announce-self']);
});

test('the secondary exports every parent disk on its address; the primary adds a replication child per disk', () => {
  const ready = secondaryReadySteps('10.0.0.12', ports, 2);
  expect(ready[1].args).toEqual({ addr: { type: 'inet', data: { host: '10.0.0.12', port: String(ports.nbd) } } });
  expect(ready.slice(2).map((s) => s.args)).toEqual([
    { device: 'parent0', writable: true },
    { device: 'parent1', writable: true },
  ]);
  expect(secondaryReadySteps('10.0.0.12', ports, 0).map((s) => s.command)).toEqual(['migrate-set-capabilities']);
  const join = replicationChildSteps('10.0.0.12', ports, 1);
  expect(join[0].args!['command-line']).toBe(
    `drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=10.0.0.12,file.port=${ports.nbd},file.export=parent0,node-name=replication0`,
  );
  expect(join[1].args).toEqual({ parent: 'colo-disk0', node: 'replication0' });
  // Re-protection opens the nodes while the guest runs and attaches them while it is stopped: the same steps, split.
  const open = replicationOpenSteps('10.0.0.12', ports, 2);
  const attach = replicationAttachSteps(2);
  expect(open.map((s) => String(s.args!['command-line']).split(' ')[0])).toEqual(['drive_add', 'drive_add']);
  expect(attach.map((s) => s.args)).toEqual([
    { parent: 'colo-disk0', node: 'replication0' },
    { parent: 'colo-disk1', node: 'replication1' },
  ]);
  expect(replicationChildSteps('10.0.0.12', ports, 2)).toEqual([...open, ...attach]);
});

test('re-protecting a former secondary inserts the filters before its rewriter; a former primary appends them', () => {
  expect(
    primaryFilterSteps(true)
      .slice(0, 3)
      .every((s) => s.args!.insert === 'before' && s.args!.position === 'id=rew0'),
  ).toBe(true);
  expect(primaryFilterSteps(false).some((s) => 'insert' in s.args!)).toBe(false);
  const chardevs = primaryChardevSteps('10.0.0.12', ports);
  expect(chardevs.map((s) => s.args!.id)).toEqual(['mirror0', 'compare1', 'compare0', 'compare0-0', 'compare_out', 'compare_out0']);
  expect(chardevs[0].args!.backend).toEqual({ type: 'socket', data: { addr: { type: 'inet', data: { host: '10.0.0.12', port: String(ports.mirror) } }, server: true, wait: false } });
  expect(chardevs[3].args!.backend).toEqual({ type: 'socket', data: { addr: { type: 'inet', data: { host: '127.0.0.1', port: String(ports.comparePrimary) } }, server: false } });
});

/** A stand-in for QEMU that answers from a table (unit test only; the lab tests run real COLO). */
function fakeQmp(answers: Record<string, unknown | QmpError>): QmpClient {
  return {
    execute: async (command: string, args?: Record<string, unknown>) => {
      const key = command === 'human-monitor-command' ? String(args!['command-line']).split(' ')[0] : command;
      const answer = answers[key];
      if (answer instanceof QmpError) throw answer;
      return answer ?? {};
    },
  } as unknown as QmpClient;
}

test('running steps again tolerates what is already done, and nothing else', async () => {
  const again = fakeQmp({
    'object-del': new QmpError('object-del', 'GenericError', "object 'f2' not found", 'test'),
    'nbd-server-stop': new QmpError('nbd-server-stop', 'GenericError', 'NBD server not running', 'test'),
  });
  const log = await runQmpSteps(again, secondaryFailoverSteps());
  expect(log.filter((s) => s.alreadyDone).map((s) => s.command)).toEqual(['nbd-server-stop', 'object-del', 'object-del']);

  const refused = fakeQmp({ 'x-colo-lost-heartbeat': new QmpError('x-colo-lost-heartbeat', 'GenericError', 'something else went wrong', 'test') });
  await expect(runQmpSteps(refused, secondaryFailoverSteps())).rejects.toThrow(ColoStepError);
  // HMP reports errors as text, not as QMP errors.
  const hmpError = fakeQmp({ drive_add: 'Error: could not open nbd' });
  await expect(runQmpSteps(hmpError, replicationChildSteps('10.0.0.12', ports, 1))).rejects.toThrow(/could not open nbd/);
  await expect(runQmpSteps(fakeQmp({ drive_add: 'OK\r\n' }), replicationChildSteps('10.0.0.12', ports, 1))).resolves.toHaveLength(2);
});
