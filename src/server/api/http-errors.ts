/** The one place where errors become HTTP responses: `{ error: { code, message } }`, no stack traces. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { DstackError, assertNever, type ErrorCode } from '../../core/errors.js';
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
    case 'internal':
      return 500;
    default:
      return assertNever(code, 'error code');
  }
}

export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  if (error instanceof DstackError) {
    return c.json({ error: { code: error.code, message: error.message } }, httpStatus(error.code));
  }
  if (error instanceof z.ZodError) {
    const message = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    return c.json({ error: { code: 'invalid', message: `invalid request: ${message}` } }, 400);
  }
  const unreachable = unreachableService(error);
  if (unreachable) {
    // An outage of the database or the artifact storage, not a bug: callers may try again.
    const message = `a service this server uses is unreachable (${unreachable}): its database or its artifact storage`;
    logger.warn(message);
    return c.json({ error: { code: 'unavailable', message: `${message}; try again once it is back` } }, 503);
  }
  logger.error('unexpected error', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  return c.json({ error: { code: 'internal', message: 'internal server error; see the server log' } }, 500);
}

/** Network failures: what a connection to another service gives when that service is down (or its name is gone). */
const NETWORK_CODES = new Set([...DROPPED_CONNECTION_CODES, 'ENOTFOUND']);

/** The message of a network failure anywhere in `error`'s causes (fetch, AggregateError), if any. */
function unreachableService(error: unknown, depth = 0): string | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_CODES.has(code)) return error.message || code;
  const inner = error instanceof AggregateError ? error.errors : [];
  for (const e of [error.cause, ...inner]) {
    const found = unreachableService(e, depth + 1);
    if (found) return found;
  }
  return undefined;
}
