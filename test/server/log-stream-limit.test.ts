/**
 * Each user may hold only so many log streams open (DSTACK_MAX_LOG_STREAMS): one more is a 429
 * that says how many are open and what to do, another user is not held back, and a stream's
 * slot is free again as soon as its client goes, or its request is refused. A real server, real
 * sockets.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { readLogStreamLimit } from '../../src/settings.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { startTestServer, type TestServer } from '../services/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the per-user limit on log streams', () => {
  let t: TestServer;
  let ada: string;
  let bob: string;
  const open: AbortController[] = [];

  /** Opens a stream of `target` as `token`; its answer (headers read, body left open) and how to close it. */
  const follow = async (token: string, target: string) => {
    const controller = new AbortController();
    open.push(controller);
    const response = await fetch(`${t.server.url}/api/logs/stream?target=${target}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    return { response, close: () => controller.abort() };
  };
  const refusal = async (response: Response) => ({
    status: response.status,
    body: (await response.json()) as { error: { code: string; message: string } },
  });

  beforeAll(async () => {
    t = await startTestServer({ maxLogStreamsPerUser: 2 });
    ada = await issueToken(t.server.engine.store, 'user', 'ada', false);
    bob = await issueToken(t.server.engine.store, 'user', 'bob', false);
    for (const [name, user, id] of [
      ['ada-run', 'ada', 'a10000000001'],
      ['bob-run', 'bob', 'b10000000001'],
      ['admin-run', 'admin', 'c10000000001'],
    ] as const) {
      const run = makeRun(name, { submittedAt: Date.now(), user });
      await t.server.engine.store.createRun(run, [makeJob(run, 'a', { id })], 'test'); // SUBMITTED: streams stay open
    }
  });
  afterAll(async () => {
    open.forEach((c) => c.abort());
    await t?.stop();
  });

  it('refuses one stream more than the limit with a 429 that says how many are open and what to do', async () => {
    const first = await follow(ada, 'ada-run');
    const second = await follow(ada, 'ada-run');
    expect([first.response.status, second.response.status]).toEqual([200, 200]);
    const third = await refusal((await follow(ada, 'ada-run')).response);
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('too_many_requests');
    expect(third.body.error.message).toBe(
      "too many log streams open: user 'ada' has 2 open, the most this server allows one user " +
        "(DSTACK_MAX_LOG_STREAMS=2); stop some (other 'dstack logs -f' or 'dstack run' in the foreground, " +
        "dashboard tabs showing a log) and try again, or ask the server's admin to raise the limit",
    );
    // Another user is not held back by ada's streams.
    const bobs = await follow(bob, 'bob-run');
    expect(bobs.response.status).toBe(200);
    bobs.close();
    // A client that goes frees its slot at once: the next stream is taken as soon as the close reaches the server.
    first.close();
    await sleep(50);
    const again = await follow(ada, 'ada-run');
    expect(again.response.status).toBe(200);
    again.close();
    second.close();
  });

  it('counts every token of a user, and an admin too', async () => {
    const other = await issueToken(t.server.engine.store, 'user', 'ada', false); // a second token of ada's
    await sleep(100); // the streams of the test before are gone
    const a = await follow(ada, 'ada-run');
    const b = await follow(other, 'ada-run');
    expect([a.response.status, b.response.status]).toEqual([200, 200]);
    expect((await follow(other, 'ada-run')).response.status).toBe(429);
    a.close();
    b.close();
    const admin = [await follow(t.token, 'admin-run'), await follow(t.token, 'ada-run')];
    expect(admin.map((s) => s.response.status)).toEqual([200, 200]);
    const refused = await refusal((await follow(t.token, 'bob-run')).response);
    expect(refused.body.error.message).toContain("user 'admin' has 2 open");
    admin.forEach((s) => s.close());
  });

  it('frees the slot of a client that left before its answer started, and holds none for a refused request', async () => {
    await sleep(100);
    const { hostname, port } = new URL(t.server.url);
    // Sent and left at once, ten times: not one of them may keep a slot.
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => {
          const head = `GET /api/logs/stream?target=bob-run HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${bob}\r\n\r\n`;
          socket.write(head, () => (socket.destroy(), resolve()));
        });
        socket.on('error', reject);
      });
    }
    // Refused requests (no such run, another's run) hold none either.
    for (const target of ['no-such-run', 'ada-run']) {
      expect([404, 403]).toContain((await follow(bob, target)).response.status);
    }
    await sleep(100);
    const kept = [await follow(bob, 'bob-run'), await follow(bob, 'bob-run')];
    expect(kept.map((s) => s.response.status)).toEqual([200, 200]);
    kept.forEach((s) => s.close());
  });

  it("frees a stream's slot when its jobs finish and the stream ends", async () => {
    await sleep(100);
    const { engine } = t.server;
    const run = makeRun('short-run', { submittedAt: Date.now(), user: 'bob' });
    await engine.store.createRun(run, [makeJob(run, 'a', { id: 'b20000000001' })], 'test');
    const streams = [await follow(bob, 'short-run'), await follow(bob, 'short-run')];
    await engine.transition('b20000000001', 'SUBMITTED', 'ABORTED', { reason: 'test' }, 'test');
    for (const s of streams) expect(await s.response.text()).toContain('event: end');
    const next = await follow(bob, 'bob-run');
    expect(next.response.status).toBe(200);
    next.close();
  });
});

describe('DSTACK_MAX_LOG_STREAMS', () => {
  it('is read as a whole number of streams, the default when unset', () => {
    expect(readLogStreamLimit({})).toBeUndefined();
    expect(readLogStreamLimit({ DSTACK_MAX_LOG_STREAMS: '200' })).toBe(200);
  });

  it.each(['0', '-1', '2.5', 'many'])("refuses '%s', saying what it takes", (value) => {
    expect(() => readLogStreamLimit({ DSTACK_MAX_LOG_STREAMS: value })).toThrow(
      `invalid DSTACK_MAX_LOG_STREAMS '${value}': expected a whole number of streams, 1 or more, like 64`,
    );
  });
});
