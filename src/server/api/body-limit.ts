/**
 * A bound on request bodies that are read whole (JSON, log batches): an authenticated
 * caller must not make the server hold an unbounded body in memory. Blob uploads are
 * streamed to storage piece by piece and are not bounded here.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { InvalidError } from '../../core/errors.js';

/** Far above any real call (a 10,000-job submission or a 100,000-file manifest is tens of MB). */
export const MAX_BODY_BYTES = 256 << 20;

/** Requests that stream their body into storage: not read whole, so not bounded by size. */
const STREAMED = [/^\/api\/blobs\/pack$/, /^\/api\/blobs\/[0-9a-f]{64}$/];

export function limitBodies(maxBytes = MAX_BODY_BYTES): MiddlewareHandler {
  const limit = maxBytes >= 1 << 20 ? `${maxBytes / (1 << 20)} MiB` : `${maxBytes} bytes`;
  const tooLarge = (): never => {
    throw new InvalidError(`the request body is over ${limit}, the most this server reads at once`);
  };
  // Bodies without a declared length (chunked) are counted as they arrive.
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || STREAMED.some((p) => p.test(c.req.path))) return next();
    const declared = c.req.header('content-length');
    // The declared length is checked without touching the body (an in-process request builds no stream).
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxBytes) tooLarge();
      return next();
    }
    return counted(c, next);
  };
}
