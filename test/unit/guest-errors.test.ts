import { splitGuestErrors } from '../support/colo-guest';

test("a secondary's errors before the counter a client saw belong to replaced runs; later ones (or without a counter) count", () => {
  const log = [
    'ORBIT-GUEST-ERROR uptime=0.5 before any tick',
    'ORBIT-COUNTER 1',
    'ORBIT-GUEST-ERROR uptime=1.99 writing counter 1 to /dev/vda failed',
    'ORBIT-COUNTER 41',
    'ORBIT-COUNTER 42',
    'ORBIT-GUEST-ERROR uptime=4.2 after the seen counter',
  ].join('\r\n');
  expect(splitGuestErrors(log, 42)).toEqual({
    replaced: ['after counter 1: ORBIT-GUEST-ERROR uptime=1.99 writing counter 1 to /dev/vda failed'],
    surviving: ['after counter -1: ORBIT-GUEST-ERROR uptime=0.5 before any tick', 'after counter 42: ORBIT-GUEST-ERROR uptime=4.2 after the seen counter'],
  });
  expect(splitGuestErrors('ORBIT-COUNTER 3\n', 1)).toEqual({ surviving: [], replaced: [] });
});
