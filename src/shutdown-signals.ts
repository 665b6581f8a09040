/**
 * SIGTERM and SIGINT for a long-running dstack process (a server, a runner): the first one
 * shuts it down without losing work (its jobs stop as `dstack stop` stops them, which can
 * take their grace period and the saving of their artifacts); a second one exits at once,
 * as a process killed does.
 */
import type { Logger } from './logger.js';

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
