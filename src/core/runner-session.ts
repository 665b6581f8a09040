/**
 * Which process a runner's name belongs to. Each runner process sends a random session id and
 * the server records the one that registered. Another process with the same token takes the
 * name over only once the recorded one has let go of it: shut down (OFFLINE), lost, or silent
 * past the runner timeout (a crash the monitor has yet to notice). Before, a second `dstack
 * runner start` with the token of a busy runner failed that runner's jobs as lost.
 */
import { RETRY_MAX_DELAY_MS } from './api.js';
import type { RunnerRecord } from './records.js';

/** Whether a request with `session` comes from the registered process (absent on both: a runner that sends none). */
export function isRegisteredSession(runner: RunnerRecord, session: string | undefined): boolean {
  return (runner.session ?? null) === (session ?? null);
}

/**
 * Whether another process than `session`'s holds the runner now: registered, ACTIVE, and heard
 * within `timeoutMs` of `now`. As for the monitor, silence counts from `since` (the server's
 * start) at the earliest, plus a retry's longest wait: a live runner cannot heartbeat a server
 * that is down.
 */
export function heldByAnother(
  runner: RunnerRecord | undefined,
  session: string | undefined,
  now: number,
  timeoutMs: number,
  since: number,
): boolean {
  if (!runner || runner.status !== 'ACTIVE' || isRegisteredSession(runner, session)) return false;
  return now - Math.max(runner.updatedAt, since + RETRY_MAX_DELAY_MS) <= timeoutMs;
}
