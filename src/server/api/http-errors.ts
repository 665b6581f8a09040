/** The one place where errors become HTTP responses: `{ error: { code, message } }`, no stack traces. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { DstackError, assertNever, type ErrorCode } from '../../core/errors.js';
import type { Logger } from '../../logger.js';

export function httpStatus(code: ErrorCode): ContentfulStatusCode {
  switch (code) {
    case 'config':
    case 'usage':
    case 'invalid':
      return 400;
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
  logger.error('unexpected error', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  return c.json({ error: { code: 'internal', message: 'internal server error; see the server log' } }, 500);
}
