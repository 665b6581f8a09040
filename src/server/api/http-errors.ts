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
  const unreachable = errorWithCode(error, NETWORK_CODES) ?? timedOut(error);
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

/** The S3 client's error for a connection that went silent (s3-client.ts): the storage is down or cut off. */
function timedOut(error: unknown): (Error & { code: string }) | undefined {
  if (!(error instanceof Error) || error.name !== 'TimeoutError') return undefined;
  return Object.assign(error, { code: 'ETIMEDOUT' });
}
