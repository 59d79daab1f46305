/**
 * Where no service manager restarts the supervisor (daemon mode, agent-install.ts), its agent
 * does. A supervisor that dies (SIGKILL, OOM) leaves its agent running but re-parented, and
 * takes the watchdog with it. The agent notices the new parent and runs the host's start
 * script; it keeps working until the new supervisor has written its pid file (its watchdog then
 * runs), and only then hands over: it exits at once, releasing nothing. The new supervisor waits
 * for it to be gone before it starts a new agent (supervisor.ts), which adopts the roles as
 * after an agent crash: the watchdog is missing only between the old supervisor's death and
 * the new one's start. Under systemd this is not used: systemd restarts the unit and stops what
 * is left of it.
 */
import { spawn } from 'child_process';
import type { Logger } from 'pino';
import { anyProgram, runningPidFromFile } from './running-process';

export interface SupervisorRespawnOptions {
  /** Starts a supervisor (the host's start script); run detached, not waited for. */
  readonly command: string;
  /** Where a supervisor writes its pid once its watchdog runs. */
  readonly supervisorPidFile: string;
  readonly log: Logger;
  /** Default 100 ms. */
  readonly pollMs?: number;
  /** How long to wait for the new supervisor before running the command again; default 10 s. */
  readonly supervisorStartMs?: number;
}

export interface SupervisorRespawn {
  /** Stops watching (the agent is stopping for another reason: no respawn, no hand-over). */
  cancel(): void;
  /** Resolves once a new supervisor runs: time for this agent to exit (never, once cancelled). */
  readonly newSupervisorRuns: Promise<void>;
}

export function respawnSupervisorWhenOrphaned(options: SupervisorRespawnOptions): SupervisorRespawn {
  const oldSupervisor = process.ppid;
  const pollMs = options.pollMs ?? 100;
  let startedAt = 0;
  let resolveNewSupervisorRuns!: () => void;
  const newSupervisorRuns = new Promise<void>((resolve) => (resolveNewSupervisorRuns = resolve));

  const startSupervisor = () => {
    startedAt = Date.now();
    const child = spawn(options.command, [], { detached: true, stdio: 'ignore', cwd: '/' });
    child.once('error', (error) => options.log.error({ error: error.message, command: options.command }, 'the supervisor could not be started'));
    child.unref();
  };

  const timer = setInterval(() => {
    if (startedAt === 0) {
      if (process.ppid === oldSupervisor) return;
      options.log.warn({ supervisorPid: oldSupervisor, command: options.command }, 'the supervisor is gone: starting a new one');
      startSupervisor();
      return;
    }
    const newSupervisor = runningPidFromFile(options.supervisorPidFile, anyProgram);
    if (newSupervisor !== undefined && newSupervisor !== oldSupervisor) {
      clearInterval(timer);
      options.log.warn({ supervisorPid: newSupervisor }, 'a new supervisor runs: handing over to its agent');
      resolveNewSupervisorRuns();
    } else if (Date.now() - startedAt > (options.supervisorStartMs ?? 10_000)) {
      options.log.error({ command: options.command }, 'no new supervisor came up: the agent keeps working unsupervised and starts one again');
      startSupervisor();
    }
  }, pollMs);
  timer.unref();
  return {
    cancel: () => clearInterval(timer),
    newSupervisorRuns,
  };
}
