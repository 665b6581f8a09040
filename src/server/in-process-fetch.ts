/**
 * `fetch` for a client inside the server process (the embedded local runner): requests go
 * straight to the hono app's handler, with no socket, HTTP parsing or SSE framing in between,
 * through the same routes, token check and validation as over the network. An aborted
 * signal rejects with the signal's reason (an AbortError), as the global `fetch` does.
 */
import type { Hono } from 'hono';

type AnyApp = Pick<Hono, 'fetch'>;

export function inProcessFetch(app: AnyApp): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const request = new Request(url, init);
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
