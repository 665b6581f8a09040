/**
 * A bound on request bodies that are read whole (JSON, log batches): an authenticated
 * caller must not make the server hold an unbounded body in memory. Blob uploads are
 * streamed to storage piece by piece and are not bounded here.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { TooLargeError } from '../../core/errors.js';

/**
 * Above any call whose lists the API bounds: 100,000 digests (6.7 MB) or upload-plan entries
 * (about 10 MB), a runner's log batch (about 1 MiB). A 243 MB list of digests was parsed
 * before its count was checked, and the server grew by gigabytes.
 */
export const MAX_BODY_BYTES = 16 << 20;

/**
 * Calls that list a run's jobs or a project's or an artifact's files, which nothing bounds in
 * number: a 10,000-job run is about 2 MB, a manifest of 100,000 files about 15 MB.
 */
export const MAX_LIST_BODY_BYTES = 256 << 20;
const LISTS = [/^\/api\/runs$/, /^\/api\/runs\/preview$/, /^\/api\/runner\/jobs\/[^/]+\/artifacts$/];

/** Requests that stream their body into storage: not read whole, so not bounded by size. */
const STREAMED = [/^\/api\/blobs\/pack$/, /^\/api\/blobs\/[0-9a-f]{64}$/];

export function limitBodies(maxBytes = MAX_BODY_BYTES, listBytes = MAX_LIST_BODY_BYTES): MiddlewareHandler {
  const small = bounded(maxBytes);
  const large = bounded(listBytes);
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || STREAMED.some((p) => p.test(c.req.path))) return next();
    return (LISTS.some((p) => p.test(c.req.path)) ? large : small)(c, next);
  };
}

function bounded(maxBytes: number): MiddlewareHandler {
  const limit = maxBytes >= 1 << 20 ? `${maxBytes / (1 << 20)} MiB` : `${maxBytes} bytes`;
  const tooLarge = (c: Context): never => {
    throw new TooLargeError(
      `the request body is over ${limit}, the most this server reads for ${c.req.method} ${c.req.path}`,
    );
  };
  // Bodies without a declared length (chunked) are counted as they arrive.
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const declared = c.req.header('content-length');
    // The declared length is checked without touching the body (an in-process request builds no stream).
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxBytes) tooLarge(c);
      return next();
    }
    return counted(c, next);
  };
}
