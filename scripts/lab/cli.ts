import { Command } from 'commander';
import { DEFAULT_STATE_DIR } from './description';
import { heal, isolateHost, killHost, partition } from './faults';
import { labDown, labStatus, labUp } from './lab';

/** `npm run lab -- up|down|status|isolate|partition|heal|kill-host` */

const program = new Command('lab')
  .description('Orbit lab: hosts as network namespaces on this machine, each with its own sshd, plus one etcd.')
  .option('--state-dir <dir>', 'where the lab keeps keys, host directories and lab.json', DEFAULT_STATE_DIR);

const stateDir = () => program.opts<{ stateDir: string }>().stateDir;

program
  .command('up')
  .description('start the lab, or repair what is missing (idempotent)')
  .option('--hosts <list>', 'name:site,... (default site-a:a,site-b:b,witness:witness, or $ORBIT_LAB_HOSTS)')
  .action(async (o: { hosts?: string }) => {
    const started = Date.now();
    const lab = await labUp({ stateDir: stateDir(), hosts: o.hosts });
    console.error(`lab up in ${Date.now() - started} ms: ${lab.hosts.map((h) => `${h.name}=${h.address}`).join(' ')}, etcd ${lab.etcd.endpoints[0]}`);
    console.log(lab.descriptionPath);
  });

program
  .command('down')
  .description('stop everything and verify that nothing is left behind')
  .action(async () => {
    const started = Date.now();
    await labDown({ stateDir: stateDir() });
    console.error(`lab down in ${Date.now() - started} ms; nothing left behind`);
  });

program
  .command('status')
  .description('print the lab description (and live state) as JSON')
  .action(async () => {
    const status = await labStatus({ stateDir: stateDir() });
    console.log(JSON.stringify(status, null, 2));
    if (!status.up) process.exitCode = 3;
  });

program
  .command('isolate <host>')
  .description('cut every link of a host')
  .action((h: string) => isolateHost(h, stateDir()));

program
  .command('partition <groupA> <groupB>')
  .description('comma-separated groups of hosts (or "etcd") that can no longer reach each other')
  .action((a: string, b: string) => partition(a.split(','), b.split(','), stateDir()));

program
  .command('heal')
  .description('undo every fault and reboot killed hosts')
  .action(() => heal(stateDir()));

program
  .command('kill-host <host>')
  .description('kill every process of a host and cut its links')
  .action((h: string) => killHost(h, stateDir()));

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
