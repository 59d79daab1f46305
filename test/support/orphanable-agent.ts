/**
 * A stand-in agent for supervisor-respawn.local.test.ts: a real process whose parent the test kills.
 * Arguments: <start command> <directory> [supervisor start ms]. It writes `ready` once it watches
 * its parent and `handed-over` when it exits for a new supervisor (whose pid file is
 * <directory>/supervisor.pid); SIGTERM stops it with no respawn.
 */
import * as fs from 'fs';
import * as path from 'path';
import pino from 'pino';
import { respawnSupervisorWhenOrphaned } from '../../provider/monitor/supervisor-respawn';

const [command, dir, supervisorStartMs] = process.argv.slice(2);
const respawn = respawnSupervisorWhenOrphaned({
  command,
  supervisorPidFile: path.join(dir, 'supervisor.pid'),
  log: pino({ level: 'silent' }),
  pollMs: 50,
  ...(supervisorStartMs ? { supervisorStartMs: Number(supervisorStartMs) } : {}),
});
void respawn.newSupervisorRuns.then(() => {
  fs.writeFileSync(path.join(dir, 'handed-over'), `${process.pid}\n`);
  process.exit(0);
});
process.on('SIGTERM', () => {
  respawn.cancel();
  process.exit(0);
});
setInterval(() => undefined, 1000);
fs.writeFileSync(path.join(dir, 'ready'), `${process.pid}\n`);
