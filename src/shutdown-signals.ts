/**
 * SIGTERM and SIGINT for a long-running dstack process (a server, a runner): the first one
 * shuts it down without losing work (its jobs stop as `dstack stop` stops them, which can
 * take their grace period and the saving of their artifacts). A second Ctrl-C (SIGINT) exits
 * at once, as a process killed does; a second SIGTERM does not: it is what a second
 * `dstack server stop` or a service manager sends, meaning "stop", not "drop the jobs".
 */
import type { Logger } from './logger.js';

/** What a shutdown does to jobs, as the first signal says it. */
export interface JobsOnShutdown {
  /** The clause after `SIGTERM: shutting down; `. */
  note: string;
  /** Whether the shutdown waits for jobs of this process to stop (the messages say so). */
  waits: boolean;
}

/** A process that runs jobs itself (a runner, a server with its local runner). */
export const JOBS_STOP: JobsOnShutdown = { note: 'jobs stop as dstack stop stops them', waits: true };

/** `jobs`: what becomes of the jobs, which depends on where they run (the caller knows). */
export function onShutdownSignals(shutdown: () => Promise<void>, logger: Logger, jobs: JobsOnShutdown): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping && signal === 'SIGINT') {
      logger.warn(`Ctrl-C again: exiting now${jobs.waits ? ', without waiting for jobs to stop' : ''}`);
      process.exit(1);
    }
    if (stopping)
      return logger.info(`${signal} again: already shutting down${jobs.waits ? ', once the jobs have stopped' : ''}`);
    stopping = true;
    logger.info(`${signal}: shutting down; ${jobs.note}${jobs.waits ? ' (Ctrl-C again to exit at once)' : ''}`);
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
