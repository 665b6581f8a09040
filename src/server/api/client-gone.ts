/**
 * A signal that aborts once a request's client has gone away: long-lived requests (a followed
 * log, a runner's long poll) end on it rather than on their own timers alone.
 *
 * @hono/node-server makes a request's signal only when first asked for, and one made after the
 * socket closed is never aborted; so the socket itself is asked too. (A streamed answer whose
 * socket closed before it was returned is never read nor cancelled by @hono/node-server: its
 * writer waits on its first write for ever unless it ends on this signal.)
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

export function clientGone(c: Context): AbortSignal {
  const signal = c.req.raw.signal;
  // Absent in process (in-process-fetch.ts): there the request's signal is the client's own.
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (!signal.aborted && outgoing?.destroyed) return AbortSignal.abort(new Error('the client has gone'));
  return signal;
}
