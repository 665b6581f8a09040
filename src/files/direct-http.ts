/**
 * Requests straight to a storage service (S3 presigned URLs), bypassing the dstack server.
 * node:http rather than fetch: a presigned PUT needs an exact Content-Length with a
 * streamed body, which fetch would send chunked.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import type { DirectRequest } from '../core/blob-api.js';
import { InvalidError, UnavailableError } from '../core/errors.js';

/**
 * A direct transfer whose connection is silent this long fails (and is retried as any outage),
 * ms: without it, a storage service that took the connection and stopped answering held the
 * upload, and the job in UPLOADING, for good. Data flows far more often in any transfer that
 * moves, however slow its link; the server's own S3 requests wait as long (s3-client.ts).
 */
export const DIRECT_IDLE_MS = 30_000;
/** A connection to storage not made in this long fails, ms. */
const CONNECT_MS = 10_000;

export interface DirectOptions {
  /** Silence on the connection after which the transfer fails, ms; default DIRECT_IDLE_MS. */
  idleMs?: number;
}

/** Watches the request's socket: connecting, then silence, each ends it with an error naming storage. */
function watch(req: ClientRequest, origin: string, what: string, idleMs: number): { response?: IncomingMessage } {
  const state: { response?: IncomingMessage } = {};
  const fail = (why: string) => {
    const error = new UnavailableError(`${what} ${origin} failed: ${why}`);
    // After the answer has started, its reader hears of it through the body stream.
    state.response?.destroy(error);
    req.destroy(error);
  };
  req.on('socket', (socket) => {
    const connecting = socket.connecting
      ? setTimeout(() => fail(`no connection in ${CONNECT_MS / 1000} s`), CONNECT_MS)
      : undefined;
    socket.once('connect', () => clearTimeout(connecting));
    socket.once('close', () => clearTimeout(connecting));
  });
  req.setTimeout(idleMs, () => fail(`no data moved for ${idleMs / 1000} s`));
  return state;
}

async function send(
  method: string,
  what: string,
  target: DirectRequest,
  options: DirectOptions,
  body?: { stream: Readable; size: number },
) {
  const url = new URL(target.url);
  // TLS loads only for https storage (loading it costs every CLI call a few ms).
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  const headers: Record<string, string> = { ...target.headers };
  if (body) headers['content-length'] = String(body.size);
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { method, headers }, (response) => {
      state.response = response;
      resolve(response);
    });
    const state = watch(req, url.origin, what, options.idleMs ?? DIRECT_IDLE_MS);
    req.on('error', (e) =>
      reject(
        e instanceof UnavailableError
          ? e
          : new UnavailableError(`cannot reach storage at ${url.origin}: ${e.message}`, { cause: e }),
      ),
    );
    if (body) pipeline(body.stream, req).catch(reject);
    else req.end();
  });
}

/**
 * S3's error codes of a 400 that a new try may pass: the upload was too slow for it (S3 closes
 * a connection idle for 20 s with RequestTimeout) or the client's clock is off for a moment.
 */
const RETRIED_CODES = new Set(['RequestTimeout', 'RequestTimeTooSkewed', 'SlowDown']);

/**
 * An error answer as an error: S3's code and message (never its whole body, which may carry the
 * access key id and the string it signed), an outage (5xx, 429, a slow upload) to retry, any
 * other refusal for good: a 403 (but an expired URL's) or a checksum's 400 is the same on every try.
 */
async function failure(what: string, target: DirectRequest, response: IncomingMessage): Promise<Error> {
  const body = (await text(response).catch(() => '')).slice(0, 4000);
  const field = (name: string) => new RegExp(`<${name}>([^<]{0,300})</${name}>`).exec(body)?.[1];
  const [code, said] = [field('Code'), field('Message')];
  const status = response.statusCode ?? 0;
  const detail = code ? ` (${code}${said ? `: ${said}` : ''})` : '';
  const message = `${what} ${new URL(target.url).origin} failed with HTTP ${status}${detail}`;
  // A URL that expired (a try that began late, a clock off) is asked for anew when retried (transfer.ts).
  const expired = status === 403 && /expired/i.test(said ?? '');
  const retried =
    status >= 500 || status === 429 || status === 408 || expired || (code !== undefined && RETRIED_CODES.has(code));
  return retried ? new UnavailableError(message) : new InvalidError(message);
}

/** PUT exactly `size` bytes of `stream` to a presigned URL. */
export async function directPut(
  target: DirectRequest,
  stream: Readable,
  size: number,
  options: DirectOptions = {},
): Promise<void> {
  const response = await send('PUT', 'upload to', target, options, { stream, size });
  if ((response.statusCode ?? 0) >= 300) throw await failure('upload to', target, response);
  response.resume();
}

/** GET a presigned URL; the body as a stream, which fails once storage is silent for the idle time. */
export async function directGet(target: DirectRequest, options: DirectOptions = {}): Promise<Readable> {
  const response = await send('GET', 'download from', target, options);
  if ((response.statusCode ?? 0) >= 300) throw await failure('download from', target, response);
  return response;
}
