/** Listening on `--host`/`--port`, with a user's message when the address cannot be had. */
import { serve, type ServerType } from '@hono/node-server';
import { ConflictError, UnavailableError, UsageError, type DstackError } from '../core/errors.js';

type Fetch = Parameters<typeof serve>[0]['fetch'];

/** Resolves once listening; rejects with what to change when the port or address cannot be taken. */
export function listen(fetch: Fetch, host: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    // Without a listener, a port in use was an unhandled 'error' event: a crash with Node's stack.
    const failed = (e: NodeJS.ErrnoException) => {
      server.close();
      reject(listenError(e, host, port));
    };
    const server = serve({ fetch, hostname: host, port }, () => {
      server.off('error', failed);
      resolve(server);
    });
    server.once('error', failed);
  });
}

function listenError(e: NodeJS.ErrnoException, host: string, port: number): DstackError {
  switch (e.code) {
    case 'EADDRINUSE':
      return new ConflictError(`port ${port} on ${host} is in use (--port)`, { cause: e });
    case 'EACCES':
      return new UsageError(`port ${port} on ${host} needs privileges this user lacks (--port)`, { cause: e });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new UsageError(`${host} is no address of this machine (--host)`, { cause: e });
    default:
      return new UnavailableError(`cannot listen on ${host}:${port}: ${e.message}`, { cause: e });
  }
}
