/**
 * `fetch` for a client inside the server process (the embedded local runner): requests go
 * straight to the hono app's handler, with no socket, HTTP parsing or SSE framing in between,
 * through the same routes, token check and validation as over the network. An aborted
 * signal rejects with the signal's reason (an AbortError), as the global `fetch` does.
 */
import type { Hono } from 'hono';

type AnyApp = Pick<Hono, 'fetch'>;

const NEVER_ABORTED = new AbortController().signal;

/**
 * A request whose body is already in memory (every JSON call the runner makes), as much of a
 * `Request` as hono and the routes read: url, method, headers, signal and the body's readers.
 * Building undici's `Request` (body as a web stream, cloned init) cost about a millisecond a
 * call on the server's thread; a route that wants the body as a stream still gets a real one.
 */
class BufferedRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly signal: AbortSignal;
  private full: Request | undefined;

  constructor(
    url: string,
    private readonly init: RequestInit,
    private readonly data: Buffer | undefined,
  ) {
    this.url = url;
    this.method = (init.method ?? 'GET').toUpperCase();
    this.headers = new Headers(init.headers);
    this.signal = init.signal ?? NEVER_ABORTED;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return (this.full ??= new Request(this.url, this.init)).body;
  }

  text(): Promise<string> {
    return Promise.resolve(this.data?.toString('utf8') ?? '');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    const d = this.data ?? Buffer.alloc(0);
    // A body that is a whole buffer of its own (a log batch, an upload) is handed over, not copied:
    // the client made it for this request and does not touch it again.
    const whole = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength;
    return Promise.resolve(
      (whole ? d.buffer : d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)) as ArrayBuffer,
    );
  }
}

function toRequest(url: string, init: RequestInit): Request {
  const body = init.body;
  if (body === undefined || body === null) return new BufferedRequest(url, init, undefined) as unknown as Request;
  if (typeof body === 'string') return new BufferedRequest(url, init, Buffer.from(body)) as unknown as Request;
  if (Buffer.isBuffer(body)) return new BufferedRequest(url, init, body) as unknown as Request;
  return new Request(url, init); // a stream (uploads): undici's Request carries it
}

export function inProcessFetch(app: AnyApp): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const request = toRequest(url, init);
    const signal = init.signal ?? undefined;
    if (!signal) return app.fetch(request);
    signal.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.resolve(app.fetch(request))
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  };
}
