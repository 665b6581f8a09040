/**
 * How the client's requests travel. Over the network it is node:http: the global `fetch`
 * costs a CLI call about a third of its time (undici's module and its WASM parser load on
 * first use, ~60 to 100 ms), while node:http is already in the process. A runner inside the
 * server wraps the server's own fetch handler instead (src/server/in-process-fetch.ts).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer | Readable;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  header(name: string): string | undefined;
  /**
   * The body, to be read once. A connection that drops before anyone reads it fails the
   * reader (iteration and pipeline throw the stored error), never the process.
   */
  body: Readable;
  /**
   * The whole body as text, where the transport has it without a stream around it (a fetch
   * Response: an answer of the server's own handler to the runner inside it). Read the
   * body one way only.
   */
  text?: () => Promise<string>;
}

/** Sends a request; redirects come back as responses. Rejects when no response arrives. */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** A fetch-shaped function: the global one, or a server's own handler. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

function guarded(body: Readable): Readable {
  body.on('error', () => {});
  return body;
}

function fromIncoming(message: IncomingMessage): HttpResponse {
  return {
    status: message.statusCode ?? 0,
    header: (name) => {
      const value = message.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: guarded(message),
  };
}

export const nodeTransport: Transport = async ({ method, url, headers, body, signal }) => {
  const target = new URL(url);
  // TLS loads only for an https server: the embedded one is plain http on 127.0.0.1.
  const send = target.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(target, { method, headers, ...(signal ? { signal } : {}) }, (message) =>
      resolve(fromIncoming(message)),
    );
    request.on('error', reject);
    if (body instanceof Readable) {
      // An error on either side ends both; the request's error (or the body's) rejects above.
      pipeline(body, request).catch((e: unknown) => {
        request.destroy(e as Error);
        reject(e as Error);
      });
    } else request.end(body);
  });
};

export function fetchTransport(fetchLike: FetchLike): Transport {
  return async ({ method, url, headers, body, signal }) => {
    const streamed = body instanceof Readable;
    const response = await fetchLike(url, {
      method,
      headers,
      body: streamed ? (Readable.toWeb(body) as unknown as ReadableStream) : body,
      redirect: 'manual',
      ...(signal ? { signal } : {}),
      ...(streamed ? { duplex: 'half' } : {}),
    } as RequestInit);
    let stream: Readable | undefined;
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      // Made when first asked for: a JSON answer is read by `text`, and wrapping a web stream
      // in a Node one and iterating it was about 3% of the server's thread in a 1,000-job run.
      get body() {
        return (stream ??= guarded(
          response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]),
        ));
      },
      text: () => response.text(),
    };
  };
}

/** The whole body as text. */
export async function readText(response: HttpResponse): Promise<string> {
  if (response.text) return response.text();
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The whole body as JSON. */
export async function readJson<T>(response: HttpResponse): Promise<T> {
  return JSON.parse(await readText(response)) as T;
}
