/** How errors become responses: an outage of a service the server uses is a 503 saying so, not a bug's 500. */
import { createServer, type AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../src/server/api/http-errors.js';
import { createLogger } from '../../src/logger.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function appThrowing(failure: () => Promise<unknown>) {
  const logged: string[] = [];
  const app = new Hono();
  app.onError((error, c) =>
    errorResponse(
      c,
      error,
      createLogger('test', 'info', (line) => logged.push(line)),
    ),
  );
  app.get('/x', async () => {
    await failure();
    return new Response('never');
  });
  return { app, logged };
}

describe('errorResponse', () => {
  it('answers a connection refused deep in the causes (fetch, pg, the S3 client) with 503, logged as a warning', async () => {
    // A real refused connection: to a port that was just given back.
    const port = await closedPort();
    const { app, logged } = appThrowing(() => fetch(`http://127.0.0.1:${port}/`));
    const r = await app.request('/x');
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({
      error: {
        code: 'unavailable',
        message:
          `a service this server uses is unreachable (connect ECONNREFUSED 127.0.0.1:${port}): its database or its ` +
          'artifact storage; try again once it is back',
      },
    });
    expect(logged.join('\n')).toContain(`unreachable (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  it('keeps any other unexpected error a 500 that points at the log, with its stack there', async () => {
    const { app, logged } = appThrowing(async () => {
      throw new TypeError('x is not a function');
    });
    const r = await app.request('/x');
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({
      error: { code: 'internal', message: 'internal server error; see the server log' },
    });
    expect(logged.join('\n')).toContain('TypeError: x is not a function');
  });
});
