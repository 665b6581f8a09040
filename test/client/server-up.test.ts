/**
 * Which failures of a health check say a server is not up yet (waited for by `dstack runner
 * start`) and which are mistakes that fail at once, against real sockets: a port nothing
 * listens on, a server that answers 502 or 503 for a while, a name that does not resolve, a
 * refused token.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerClient } from '../../src/client/runner-client.js';
import { serverNotUpYet, waitForServer } from '../../src/client/server-up.js';
import { freePort } from '../e2e/team-harness.js';

let server: Server | undefined;
afterEach(() => server?.close());

/** A server that answers the first statuses in `statuses` (with `body`), then a health answer. */
async function answering(statuses: number[], body = 'Bad Gateway'): Promise<string> {
  let requests = 0;
  server = createServer((_req, res) => {
    const status = statuses[requests++];
    if (status === undefined) {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ ok: true, caller: 'r1', version: 'x' }));
    }
    res.statusCode = status;
    res.end(body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const failure = (url: string) =>
  new RunnerClient({ url, token: 't' }).health().then(
    () => undefined,
    (e: unknown) => e,
  );

describe('a server not up yet', () => {
  it('is a refused connection, or a 502, 503 or 504 answer', async () => {
    const closed = await freePort();
    for (const host of ['127.0.0.1', 'localhost']) {
      const e = await failure(`http://${host}:${closed}`);
      expect([host, String(e), serverNotUpYet(e)]).toEqual([host, expect.stringContaining('ECONNREFUSED'), true]);
    }
    for (const status of [502, 503, 504]) {
      const e = await failure(await answering([status]));
      expect([status, serverNotUpYet(e)]).toEqual([status, true]);
      server?.close();
    }
  });

  it('is not a name that does not resolve, a refused token, a server error or a page not found', async () => {
    const unresolved = await failure('http://no-such-host.invalid:3000');
    expect(String(unresolved)).toContain('ENOTFOUND');
    expect(serverNotUpYet(unresolved)).toBe(false);
    const refused = JSON.stringify({ error: { code: 'unauthorized', message: 'invalid token' } });
    for (const [status, body] of [
      [401, refused],
      [500, 'oops'],
      [404, 'Not Found'],
    ] as const) {
      const e = await failure(await answering([status], body));
      expect([status, serverNotUpYet(e)]).toEqual([status, false]);
      server?.close();
    }
  });

  it('is waited for, each wait said, with a growing delay; any other failure ends the wait at once', async () => {
    const url = await answering([503, 502, 503]);
    const waits: [string, number][] = [];
    const client = new RunnerClient({ url, token: 't' });
    const health = await waitForServer(() => client.health(), {
      firstDelayMs: 10,
      maxDelayMs: 25,
      onWait: (e, ms) => waits.push([(e as Error).message, ms]),
    });
    expect(health.caller).toBe('r1');
    expect(waits).toEqual([
      ['server error: server answered HTTP 503', 10],
      ['server error: server answered HTTP 502', 20],
      ['server error: server answered HTTP 503', 25],
    ]);
    server?.close();

    const denied = await answering([401], JSON.stringify({ error: { code: 'unauthorized', message: 'no' } }));
    const told: unknown[] = [];
    await expect(
      waitForServer(() => new RunnerClient({ url: denied, token: 't' }).health(), { onWait: (e) => told.push(e) }),
    ).rejects.toThrow('no');
    expect(told).toEqual([]);
  });
});
