/** The one place where errors become HTTP responses: `{ error: { code, message } }`, no stack traces. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { DstackError, assertNever, type ErrorCode } from '../../core/errors.js';
import { DISK_FULL, DISK_FULL_CODES, errorWithCode } from '../../core/disk-errors.js';
import { DROPPED_CONNECTION_CODES } from '../../core/network-errors.js';
import type { Logger } from '../../logger.js';

export function httpStatus(code: ErrorCode): ContentfulStatusCode {
  switch (code) {
    case 'config':
    case 'usage':
    case 'invalid':
      return 400;
    case 'too_large':
      return 413;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'unavailable':
      return 503;
    case 'storage_full':
      return 507;
    case 'too_many_requests':
      return 429;
    case 'internal':
      return 500;
    default:
      return assertNever(code, 'error code');
  }
}

/** The body of an error answer, as the client reads it back (client/errors.ts). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  const { status, body } = errorAnswer(error, logger);
  return c.json(body, status);
}

/**
 * What `error` answers, logged as errorResponse logs it; also for an error after the answer has
 * started (a pack cut off, blob-routes.ts), which carries it in the body.
 */
export function errorAnswer(error: unknown, logger: Logger): { status: ContentfulStatusCode; body: ErrorBody } {
  const answer = (code: ErrorCode, message: string, status = httpStatus(code)) => ({
    status,
    body: { error: { code, message } },
  });
  if (error instanceof DstackError) return answer(error.code, error.message);
  if (error instanceof z.ZodError) {
    const message = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    return answer('invalid', `invalid request: ${message}`);
  }
  const unreachable = errorWithCode(error, NETWORK_CODES) ?? timedOut(error) ?? databaseOut(error);
  if (unreachable) {
    // An outage of the database or the artifact storage, not a bug: callers may try again.
    const why = unreachable.message || unreachable.code;
    const message = `a service this server uses is unreachable (${why}): its database or its artifact storage`;
    logger.warn(message);
    return answer('unavailable', `${message}; try again once it is back`);
  }
  const full = errorWithCode(error, DISK_FULL_CODES);
  if (full) {
    // Not a bug, and no retry frees space: the caller (a runner's job) fails at once, saying what to do.
    logger.warn(`the server's storage is full: ${full.message || full.code}`);
    const message = `the server's storage is full (${DISK_FULL[full.code]}): free space on it, or give it more, and run again`;
    return answer('storage_full', message);
  }
  logger.error('unexpected error', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  return answer('internal', 'internal server error; see the server log');
}

/** Network failures: what a connection to another service gives when that service is down (or its name is gone). */
const NETWORK_CODES = new Set([...DROPPED_CONNECTION_CODES, 'ENOTFOUND']);

/**
 * PostgreSQL going down or coming back: SQLSTATEs of a server that is starting up or shutting
 * down (57P03: `the database system is starting up`, for seconds after a restart), that ended
 * the connection (57P01, 57P02), of a lost connection (class 08), or full of connections (53300).
 * A bug's 500 was the answer: runners gave up on it at once, and failed jobs that had finished.
 */
const DATABASE_OUTAGE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
]);

/** node-postgres's error for a connection its server closed mid-query; it has no code. */
const PG_TERMINATED = 'Connection terminated unexpectedly';

function databaseOut(error: unknown): (Error & { code: string }) | undefined {
  const found = errorWithCode(error, DATABASE_OUTAGE_CODES);
  if (found) return found;
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e.message === PG_TERMINATED) return Object.assign(e, { code: 'ECONNRESET' });
  }
  return undefined;
}

/** The S3 client's error for a connection that went silent (s3-client.ts): the storage is down or cut off. */
function timedOut(error: unknown): (Error & { code: string }) | undefined {
  if (!(error instanceof Error) || error.name !== 'TimeoutError') return undefined;
  return Object.assign(error, { code: 'ETIMEDOUT' });
}
