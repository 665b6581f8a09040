/**
 * Waiting for a server that is not up yet: a runner started by systemd beside (or before) its
 * server, or while a proxy in front of it answers for a backend still starting. Only failures
 * that say "nothing answers there yet" are waited out; a name that does not resolve, a refused
 * token, a certificate not trusted or a redirect are mistakes that waiting would not mend.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '../core/errors.js';

/**
 * Connection errors of a server not listening yet: refused, and the network or resolver not up
 * (at boot). ENOTFOUND (no such name) is not among them: a wrong URL fails at once.
 */
const NOT_UP_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EAI_AGAIN']);
/** Answers of a proxy whose server is not up, or of a server whose database is not (503). */
const NOT_UP_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

/** Whether `error` (from a client's request) says the server is not up yet, rather than wrong. */
export function serverNotUpYet(error: unknown): boolean {
  if (!(error instanceof UnavailableError)) return false;
  if (error.httpStatus !== undefined) return NOT_UP_STATUSES.has(error.httpStatus);
  for (let e: unknown = error.cause; e instanceof Error; e = e.cause === e ? undefined : e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && NOT_UP_CODES.has(code)) return true;
  }
  return false;
}

export interface WaitForServer {
  /** Told before each wait: why, and how long until the next try, ms. */
  onWait(error: unknown, delayMs: number): void;
  signal?: AbortSignal;
  /** First wait, doubled after each try up to `maxDelayMs` (defaults 1 s and 30 s). */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/** `probe` until it succeeds or fails otherwise than `serverNotUpYet`; with no limit: a service waits for its server. */
export async function waitForServer<T>(probe: () => Promise<T>, options: WaitForServer): Promise<T> {
  const max = options.maxDelayMs ?? MAX_DELAY_MS;
  for (let delay = options.firstDelayMs ?? FIRST_DELAY_MS; ; delay = Math.min(delay * 2, max)) {
    try {
      return await probe();
    } catch (e) {
      if (!serverNotUpYet(e) || options.signal?.aborted) throw e;
      options.onWait(e, delay);
    }
    await sleep(delay, undefined, options.signal && { signal: options.signal });
  }
}
