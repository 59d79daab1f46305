import { buildProgram, parseHostOption } from './orbit-ft';

test('--host takes name=address with an optional port', () => {
  expect(parseHostOption('site-a=10.0.0.11')).toEqual({ name: 'site-a', address: '10.0.0.11', port: 22 });
  expect(parseHostOption('b=host-b.example.org:2222')).toEqual({ name: 'b', address: 'host-b.example.org', port: 2222 });
  expect(parseHostOption('v6=[fd00::11]:22')).toEqual({ name: 'v6', address: 'fd00::11', port: 22 });
  for (const bad of ['site-a', '=10.0.0.1', 'site-a=10.0.0.1:0', 'site-a=10.0.0.1:70000', 'Site=10.0.0.1', 'a=b c']) {
    expect(() => parseHostOption(bad)).toThrow(/Invalid --host/);
  }
});

test('the commands an operator needs are there, each naming its hosts explicitly', () => {
  const program = buildProgram();
  expect(program.commands.map((c) => c.name())).toEqual(['status', 'failover', 'fence', 'reprotect', 'agents', 'console', 'events']);
  const failover = program.commands.find((c) => c.name() === 'failover')!;
  expect(failover.options.filter((o) => o.mandatory).map((o) => o.long)).toEqual(['--on']);
  const reprotect = program.commands.find((c) => c.name() === 'reprotect')!;
  expect(reprotect.options.filter((o) => o.mandatory).map((o) => o.long)).toEqual(['--from', '--onto']);
});
