/**
 * Long-lived requests (a followed log, a runner's long-polled claim or heartbeat) are
 * authenticated once, as they start; a token replaced or revoked meanwhile (`dstack users
 * token`, `users delete`, `runners token`, `runners delete`), or an admin's rights taken back
 * (`users demote`), must not keep one going for as long as a run lasts. Each asks again every
 * `engine.tokenRecheckMs` through the store's token cache (a hit is a map look-up; a miss, one
 * indexed query), never per line it sends.
 */
import { UnauthorizedError } from '../../core/errors.js';
import type { Engine } from '../engine.js';
import type { TokenRecord } from '../store/store.js';

export interface TokenWatch {
  /** Aborted once the caller's token is no longer valid, or no longer an admin's when it was. */
  readonly signal: AbortSignal;
  /** Stop asking: the request has ended. */
  stop(): void;
}

export function watchToken(engine: Engine, caller: TokenRecord): TokenWatch {
  const revoked = new AbortController();
  let asking = false;
  const timer = setInterval(() => {
    if (asking) return; // a slow database: one question at a time
    asking = true;
    engine.store
      .findToken(caller.hash)
      .then((found) => {
        // A demoted admin's stream of another's run must not go on: its reconnect is asked again as a user's.
        if (found !== undefined && (found.admin || !caller.admin)) return;
        clearInterval(timer);
        revoked.abort();
      })
      // The database unreachable: asked again at the next tick; the stream does not need it.
      .catch(() => {})
      .finally(() => (asking = false));
  }, engine.tokenRecheckMs);
  timer.unref();
  return { signal: revoked.signal, stop: () => clearInterval(timer) };
}

/** What a request with no valid token is answered, at its start or when a long one finds it revoked. */
export function invalidToken(): UnauthorizedError {
  return new UnauthorizedError('missing or invalid token (pass it as "Authorization: Bearer TOKEN")');
}

/**
 * A long poll (a runner's claim or heartbeat, up to a minute): `wait` is given a signal that
 * also ends when the caller's token is revoked. One that ends so, with nothing found, is
 * refused as a request with that token would be; what it found (a job claimed just before) is
 * still answered, so that it is not stranded.
 */
export async function longPoll<T>(
  engine: Engine,
  caller: TokenRecord,
  request: AbortSignal,
  wait: (signal: AbortSignal) => Promise<T | undefined>,
): Promise<T | undefined> {
  const token = watchToken(engine, caller);
  try {
    const found = await wait(AbortSignal.any([request, token.signal]));
    if (found === undefined && token.signal.aborted) throw invalidToken();
    return found;
  } finally {
    token.stop();
  }
}
