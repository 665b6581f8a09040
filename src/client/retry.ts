/**
 * Retrying requests through connections that drop. A runner on a flaky network keeps
 * its job going: every request it retries is safe to repeat (transitions say when they
 * already happened, log entries carry sequence numbers, blobs are content-addressed,
 * claims re-offer a job whose answer was lost).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RETRY_MAX_DELAY_MS } from '../core/api.js';
import { StorageFullError, UnavailableError } from '../core/errors.js';
import { DROPPED_CONNECTION_CODES } from '../core/network-errors.js';
import type { Logger } from '../logger.js';

const FIRST_DELAY_MS = 200;

/** How long a runner (a long-lived one, or one job's under Slurm) keeps retrying a request through a dropped connection. */
const RUNNER_RETRY_MS = 2 * 60_000;

/**
 * How long `dstack runner start` waits out its server's outage (the server down or restarting,
 * its database or storage out of reach) in a request: its jobs' ends, logs and artifacts wait
 * for the server rather than fail the job. A day: past it, the server is gone, not out.
 */
export const RUNNER_OUTAGE_MS = 24 * 3600_000;

/** Errors that mean the request may not have got through, or its answer not back. */
export function isTransient(error: unknown): boolean {
  if (error instanceof UnavailableError) return true;
  const e = error as { name?: string; message?: string; code?: string; cause?: unknown } | undefined;
  if (!e || e.name === 'AbortError') return false;
  // undici cuts a response body that the connection dropped under with TypeError('terminated').
  if (e.name === 'TypeError' && e.message === 'terminated') return true;
  if (e.code && DROPPED_CONNECTION_CODES.has(e.code)) return true;
  return e.cause !== undefined && e.cause !== error && isTransient(e.cause);
}

/**
 * What a job's status report retries: what `isTransient` says, and a server whose storage is
 * full, which fails the job's other requests at once. The report is the only record of how
 * the job ended: given up, the job would stay RUNNING on the server once its runner is done
 * with it, while space freed within the runner's retry window lets it through.
 */
export function isReportRetryable(error: unknown): boolean {
  return error instanceof StorageFullError || isTransient(error);
}

export interface RetryPolicy {
  /** Keep trying for this long, ms. */
  forMs: number;
  /**
   * Through an outage of the dstack server (`UnavailableError.serverOutage`: it is out of reach,
   * or its database or storage is), keep trying for this long instead, ms (default `forMs`).
   */
  outageForMs?: number;
  /** Told before each wait: what failed, how long until the next try, and the request (`POST /api/runner/claim`) when known. */
  onRetry?: (error: unknown, delayMs: number, what?: string) => void;
}

/**
 * A runner's policy: two minutes of retries, each said in its log; `outageForMs` (default the
 * same) through an outage of its server.
 */
export function runnerRetry(logger: Pick<Logger, 'warn'>, outageForMs = RUNNER_RETRY_MS): RetryPolicy {
  const said = new Map<string, number>();
  return {
    forMs: RUNNER_RETRY_MS,
    outageForMs,
    // Named: a runner's claim, heartbeat and log sends fail together when its server is down,
    // and three lines alike at each step read as one request said thrice. Once its tries are
    // RETRY_MAX_DELAY_MS apart, a request is said once a minute: an outage of hours is waited out.
    onRetry: (error, delayMs, what = 'request') => {
      const now = Date.now();
      const last = said.get(what);
      if (delayMs < RETRY_MAX_DELAY_MS) said.delete(what);
      else if (last !== undefined && now - last < QUIET_RETRIES_MS) return;
      else said.set(what, now);
      logger.warn(`${what} failed; retrying in ${delayMs} ms`, { error: String(error) });
    },
  };
}

/** How often a request retried at the longest delay is said in the runner's log. */
const QUIET_RETRIES_MS = 60_000;

/**
 * Who else hears of one piece of work's retries besides the policy (the runner's log): a job's
 * artifact upload says in the job's log why it waits, and when it goes on (progress-notes.ts).
 */
export interface RetryWatcher {
  /** A try failed and is retried after `delayMs`. */
  waiting(error: unknown, delayMs: number, what?: string): void;
  /** A request that had failed went through. */
  through(what?: string): void;
}

/**
 * Run `attempt` until it succeeds, fails for good (not `retryable`), the policy's time passes,
 * or `signal` aborts (also during a wait between tries: a stopped job must not wait out a
 * retry of seconds). `watcher` hears each wait, and the success after one.
 */
export async function retrying<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
  what?: string,
  retryable: (error: unknown) => boolean = isTransient,
  watcher?: RetryWatcher,
): Promise<T> {
  const start = Date.now();
  let waited = false;
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, RETRY_MAX_DELAY_MS)) {
    try {
      const result = await attempt();
      if (waited) watcher?.through(what);
      return result;
    } catch (e) {
      const outage = e instanceof UnavailableError && e.serverOutage === true;
      const deadline = start + (outage ? (policy.outageForMs ?? policy.forMs) : policy.forMs);
      if (!retryable(e) || signal?.aborted || Date.now() + delay > deadline) throw e;
      policy.onRetry?.(e, delay, what);
      watcher?.waiting(e, delay, what);
      waited = true;
    }
    await sleep(delay, undefined, signal && { signal });
  }
}
