/**
 * Shutting a server down without losing its own runner's work. A job that runner runs would
 * otherwise end with the process: "runner lost" at the next start, its artifacts unsaved.
 * Instead the runner claims nothing more, and its jobs stop as `dstack stop` stops them
 * (SIGTERM, the grace period, then their artifacts are saved): STOPPED, so that
 * `dstack resume` runs them again after the next start.
 */
import type { Logger } from '../logger.js';
import type { RunnerAgent } from '../runner/agent.js';
import { stopJobs } from './control.js';
import type { Engine } from './engine.js';

export const SHUTDOWN_REASON = 'stopped: the server shut down';

/** Drain the runner `name` (inside this server): resolves once its jobs have stopped; how many there were. */
export async function drainRunner(engine: Engine, agent: RunnerAgent, name: string): Promise<number> {
  engine.drain(name);
  await agent.stopClaiming();
  const jobs = await Promise.all(agent.jobIds().map((id) => engine.store.getJob(id)));
  const running = jobs.filter((j) => j !== undefined);
  await stopJobs(engine, running, { actor: 'server', reason: SHUTDOWN_REASON });
  await agent.idle();
  return running.length;
}

/**
 * On SIGTERM or SIGINT: `shutdown` (drain, then close), then exit. A second signal while it
 * waits for jobs exits at once, as a server killed does.
 */
export function onShutdownSignals(shutdown: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now, without waiting for jobs to stop`);
      process.exit(1);
    }
    stopping = true;
    shutdown().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error('shutting down failed', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
