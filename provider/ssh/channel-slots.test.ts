import { ChannelSlots } from './channel-slots';

const live = () => new AbortController().signal;

it('hands out capacity - 1 slots to ordinary work and keeps the last one for urgent work', async () => {
  const slots = new ChannelSlots(3);
  const a = await slots.acquire(live());
  await slots.acquire(live());
  let third = false;
  const waiting = slots.acquire(live()).then((release) => ((third = true), release));
  const urgent = await slots.acquire(live(), true);
  expect(slots.active).toBe(3);
  expect(third).toBe(false);
  urgent();
  await Promise.resolve();
  expect(third).toBe(false); // still two ordinary slots in use
  a();
  (await waiting)();
  expect(third).toBe(true);
});

it('serves urgent waiters first', async () => {
  const slots = new ChannelSlots(2);
  const first = await slots.acquire(live());
  const order: string[] = [];
  const ordinary = slots.acquire(live()).then((r) => (order.push('ordinary'), r));
  const urgent = slots.acquire(live(), true).then((r) => (order.push('urgent'), r));
  (await urgent)();
  first();
  (await ordinary)();
  expect(order).toEqual(['urgent', 'ordinary']);
});

it('stops waiting when the signal aborts, and a release counts once', async () => {
  const slots = new ChannelSlots(2);
  const release = await slots.acquire(live());
  const controller = new AbortController();
  const waiting = slots.acquire(controller.signal);
  controller.abort(new Error('gave up'));
  await expect(waiting).rejects.toThrow('gave up');
  release();
  release();
  expect(slots.active).toBe(0);
});

it('needs room for at least one ordinary and one urgent channel', () => {
  expect(() => new ChannelSlots(1)).toThrow(/at least 2/);
});
