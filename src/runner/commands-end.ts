/** How a job whose commands ran ends once its artifacts are saved (job-run.ts, leftover-job.ts). */
import type { ExitResult } from './executors/executor.js';

/** How a job whose commands ran ends, once its artifacts are saved: DONE, or FAILED saying why. */
export interface CommandsEnd {
  to: 'DONE' | 'FAILED';
  fields: { reason: string; exitCode?: number };
}

/** The end of a job whose commands exited 0. */
export const DONE_END: CommandsEnd = { to: 'DONE', fields: { reason: 'exit code 0', exitCode: 0 } };

/** The end of a job whose commands exited so. */
export function commandsEnd(exit: ExitResult): CommandsEnd {
  if (exit.code === 0) return DONE_END;
  const reason = exit.reason ?? (exit.code === null ? `killed by signal ${exit.signal}` : `exit code ${exit.code}`);
  return { to: 'FAILED', fields: { reason, ...(exit.code === null ? {} : { exitCode: exit.code }) } };
}
