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
  /** Runs before the agent exits for the new supervisor's agent (it must be quick: flush logs). */
  readonly handOver: () => Promise<void>;
  readonly log: Logger;
  /** Default 100 ms. */
  readonly pollMs?: number;
  /** How long to wait for the new supervisor before running the command again; default 10 s. */
  readonly supervisorStartMs?: number;
}

export interface SupervisorRespawn {
  /** Stops watching (the agent is stopping for another reason: no respawn, no hand-over). */
  cancel(): void;
  /** Resolves once a new supervisor runs and the agent has handed over to it. */
  readonly handedOver: Promise<void>;
}

export function respawnSupervisorWhenOrphaned(options: SupervisorRespawnOptions): SupervisorRespawn {
  const oldSupervisor = process.ppid;
  const pollMs = options.pollMs ?? 100;
  let cancelled = false;
  let startedAt = 0;
  let resolveHandedOver!: () => void;
  const handedOver = new Promise<void>((resolve) => (resolveHandedOver = resolve));

  const startSupervisor = () => {
    startedAt = Date.now();
    const child = spawn(options.command, [], { detached: true, stdio: 'ignore', cwd: '/' });
    child.once('error', (error) => options.log.error({ error: error.message, command: options.command }, 'the supervisor could not be started'));
    child.unref();
  };

  const timer = setInterval(() => {
    if (cancelled) return;
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
      void options
        .handOver()
        .catch((error: unknown) => options.log.error({ error: error instanceof Error ? error.message : String(error) }, 'hand-over: the agent did not stop cleanly'))
        .then(() => {
          if (!cancelled) resolveHandedOver();
        });
    } else if (Date.now() - startedAt > (options.supervisorStartMs ?? 10_000)) {
      options.log.error({ command: options.command }, 'no new supervisor came up: the agent keeps working unsupervised and starts one again');
      startSupervisor();
    }
  }, pollMs);
  timer.unref();
  return {
    cancel: () => {
      cancelled = true;
      clearInterval(timer);
    },
    handedOver,
  };
}
