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
 * A job's artifact manifest (a runner's call), which nothing bounds in number of files: a
 * manifest of 100,000 files is about 15 MB.
 */
export const MAX_LIST_BODY_BYTES = 256 << 20;
const LISTS = [/^\/api\/runner\/jobs\/[^/]+\/artifacts$/];

/**
 * A run's submission or preview, read as other calls are, with what to do when over: the server
 * checks and plans a run on its one thread, every other caller waiting meanwhile (at 256 MiB, a
 * 170 MB preview held them 16 s). A 10,000-job run is about 2 MB, the 20,000 jobs a run may hold
 * (run-body.ts) about 4 MB; a preview also lists the code's files, 100,000 of them about 15 MB.
 */
export const MAX_RUN_BODY_BYTES = MAX_BODY_BYTES;
/**
 * A preview, which lists every file of the code beside the jobs, and a code manifest (code.ts):
 * a monorepo's tracked files cannot be git-ignored, and 64 MiB holds about 430,000 of them. Its
 * worst body holds other callers about four times as long as a run's (a 33 MB list took 2 s).
 */
export const MAX_CODE_LIST_BYTES = 64 << 20;
const SPLIT_RUN =
  "split the workflow into smaller runs (a job depends on another run's through its tag: depends-on: [WORKFLOW:TAG])";
const RUNS: [RegExp, string, number][] = [
  [/^\/api\/runs$/, SPLIT_RUN, MAX_RUN_BODY_BYTES],
  [
    /^\/api\/runs\/preview$/,
    `${SPLIT_RUN}, or git-ignore the folders of many files that the jobs do not need`,
    MAX_CODE_LIST_BYTES,
  ],
];

/** Requests that stream their body into storage: not read whole, so not bounded by size. */
const STREAMED = [/^\/api\/blobs\/pack$/, /^\/api\/blobs\/[0-9a-f]{64}$/];

export function limitBodies(maxBytes = MAX_BODY_BYTES, listBytes = MAX_LIST_BODY_BYTES): MiddlewareHandler {
  const small = bounded(maxBytes);
  const large = bounded(listBytes);
  const runs = RUNS.map(([path, hint, bytes]) => [path, bounded(bytes, hint)] as const);
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || STREAMED.some((p) => p.test(c.req.path))) return next();
    const run = runs.find(([path]) => path.test(c.req.path));
    if (run) return run[1](c, next);
    return (LISTS.some((p) => p.test(c.req.path)) ? large : small)(c, next);
  };
}

/** `hint`: what the caller can do about it, where there is something. */
function bounded(maxBytes: number, hint?: string): MiddlewareHandler {
  const limit = maxBytes >= 1 << 20 ? `${maxBytes / (1 << 20)} MiB` : `${maxBytes} bytes`;
  const tooLarge = (c: Context): never => {
    throw new TooLargeError(
      `the request body is over ${limit}, the most this server reads for ${c.req.method} ${c.req.path}` +
        (hint === undefined ? '' : `: ${hint}`),
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
