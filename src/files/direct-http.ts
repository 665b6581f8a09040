/**
 * Requests straight to a storage service (S3 presigned URLs), bypassing the dstack server.
 * node:http rather than fetch: a presigned PUT needs an exact Content-Length with a
 * streamed body, which fetch would send chunked.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import type { DirectRequest } from '../core/blob-api.js';
import { UnavailableError } from '../core/errors.js';

async function send(method: string, target: DirectRequest, body?: { stream: Readable; size: number }) {
  const url = new URL(target.url);
  // TLS loads only for https storage (loading it costs every CLI call a few ms).
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  const headers: Record<string, string> = { ...target.headers };
  if (body) headers['content-length'] = String(body.size);
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { method, headers }, resolve);
    req.on('error', (e) =>
      reject(new UnavailableError(`cannot reach storage at ${url.origin}: ${e.message}`, { cause: e })),
    );
    if (body) pipeline(body.stream, req).catch(reject);
    else req.end();
  });
}

async function failure(what: string, target: DirectRequest, response: IncomingMessage): Promise<Error> {
  const detail = (await text(response).catch(() => '')).slice(0, 500);
  return new UnavailableError(
    `${what} ${new URL(target.url).origin} failed with HTTP ${response.statusCode}: ${detail}`,
  );
}

/** PUT exactly `size` bytes of `stream` to a presigned URL. */
export async function directPut(target: DirectRequest, stream: Readable, size: number): Promise<void> {
  const response = await send('PUT', target, { stream, size });
  if ((response.statusCode ?? 0) >= 300) throw await failure('upload to', target, response);
  response.resume();
}

/** GET a presigned URL; the body as a stream. */
export async function directGet(target: DirectRequest): Promise<Readable> {
  const response = await send('GET', target);
  if ((response.statusCode ?? 0) >= 300) throw await failure('download from', target, response);
  return response;
}
