/**
 * A long-lived request is authenticated as it starts, and asked again every few seconds: a
 * token replaced or revoked meanwhile ends a followed log (without `end`: the client's
 * reconnect is refused, saying why) and a runner's long-polled claim or heartbeat (answered
 * 401), rather than keeping them going until the run ends; so does a demoted admin's stream.
 * Others' streams go on. Over HTTP, against a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutputEntry } from '../../src/core/log-batch.js';
import { issueToken } from '../../src/server/auth.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { startTestServer, type TestServer } from '../services/server.js';

const INVALID = {
  error: { code: 'unauthorized', message: 'missing or invalid token (pass it as "Authorization: Bearer TOKEN")' },
};
const entry = (seq: number, text: string): OutputEntry => ({
  seq,
  ts: Date.now(),
  stream: 'stdout',
  bytes: Buffer.from(text),
});

/** A followed log read as it comes: what has arrived, and whether the server closed it (cleanly). */
class Follower {
  text = '';
  ended = false;
  private readonly done: Promise<void>;
  constructor(response: Response) {
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    this.done = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.text += decoder.decode(value, { stream: true });
      }
      this.ended = true;
    })();
    this.done.catch(() => {}); // cut when the test server stops: reported by `end` if awaited
  }
  /** Resolves once `text` appears, failing after `ms`. */
  async sees(text: string, ms = 5000): Promise<void> {
    for (const until = Date.now() + ms; !this.text.includes(text); await sleep(20))
      if (Date.now() > until) throw new Error(`never saw ${text} in ${this.text}`);
  }
  /** Resolves once the server has closed the stream, failing after `ms`. */
  end(ms = 5000): Promise<void> {
    return Promise.race([this.done, sleep(ms).then(() => Promise.reject(new Error(`still open after ${ms} ms`)))]);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('long-lived requests of a token replaced or revoked meanwhile', () => {
  let t: TestServer;
  const tokens: Record<string, string> = {};
  /** A run of `user` with one RUNNING job, `id`, whose log holds one line. */
  const runningJob = async (user: string, id: string) => {
    const run = makeRun(`revoked-${id}`, { user, submittedAt: Date.now() });
    await t.server.engine.store.createRun(run, [makeJob(run, 'a', { id })], 'test');
    await t.server.engine.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    await t.server.engine.logs.append(id, [entry(1, `first line of ${id}`)]);
  };
  const follow = (token: string, id: string) =>
    fetch(`${t.server.url}/api/logs/stream?target=${id}&jobs=false`, { headers: { authorization: `Bearer ${token}` } });
  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${t.server.url}/api${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as unknown };
  };

  beforeAll(async () => {
    t = await startTestServer();
    t.server.engine.tokenRecheckMs = 100;
    for (const user of ['alice', 'bob', 'carol'])
      tokens[user] = await issueToken(t.server.engine.store, 'user', user, false);
    await runningJob('alice', 'c00000000001');
    await runningJob('bob', 'c00000000002');
    await runningJob('carol', 'c00000000003');
  });
  afterAll(() => t?.stop());

  it("ends a followed log once its user's token is replaced; another user's goes on", async () => {
    const alice = new Follower(await follow(tokens.alice!, 'c00000000001'));
    const bob = new Follower(await follow(tokens.bob!, 'c00000000002'));
    await alice.sees('first line of c00000000001');
    await bob.sees('first line of c00000000002');

    const replaced = await api(t.token, 'POST', '/users/alice/token');
    expect(replaced.status).toBe(200);
    await alice.end(2000);
    expect(alice.text).not.toContain('event: end');
    // The client reconnects from its cursor, and is told why it cannot.
    const again = await follow(tokens.alice!, 'c00000000001');
    expect([again.status, await again.json()]).toEqual([401, INVALID]);

    await sleep(500); // several checks of bob's token
    expect(bob.ended).toBe(false);
    await t.server.engine.logs.append('c00000000002', [entry(2, 'second line of c00000000002')]);
    await bob.sees('second line of c00000000002');
    // The new token follows as the old one did.
    const renewed = new Follower(await follow((replaced.json as { token: string }).token, 'c00000000001'));
    await renewed.sees('first line of c00000000001');
  });

  it('ends a followed log once its user is deleted', async () => {
    const carol = new Follower(await follow(tokens.carol!, 'c00000000003'));
    await carol.sees('first line of c00000000003');
    expect((await api(t.token, 'DELETE', '/users/carol')).status).toBe(200);
    await carol.end(2000);
    expect(carol.text).not.toContain('event: end');
  });

  it("ends a demoted admin's followed log of another's run; the reconnect, as a user's, finds no such job", async () => {
    await runningJob('erin', 'c00000000004');
    const dave = await issueToken(t.server.engine.store, 'user', 'dave', true);
    const follower = new Follower(await follow(dave, 'c00000000004'));
    await follower.sees('first line of c00000000004');
    expect((await api(t.token, 'PUT', '/users/dave/admin', { admin: false })).status).toBe(200);
    await follower.end(2000);
    expect(follower.text).not.toContain('event: end');
    expect((await follow(dave, 'c00000000004')).status).toBe(404);
  });

  it("answers a runner's long-polled claim and heartbeat 401 once its token is replaced or deleted", async () => {
    const total = { cpu: 1, memory: 0, gpus: [] };
    for (const name of ['gpu-1', 'gpu-2']) {
      const created = await api(t.token, 'POST', '/runners', { name });
      tokens[name] = (created.json as { token: string }).token;
      const registered = await api(tokens[name], 'POST', '/runner/register', { name, host: 'h', total, jobIds: [] });
      expect(registered.status).toBe(200);
    }
    const started = Date.now();
    const claim = api(tokens['gpu-1']!, 'POST', '/runner/claim', { name: 'gpu-1', jobIds: [], waitMs: 60_000 });
    const heartbeat = api(tokens['gpu-2']!, 'POST', '/runner/heartbeat', { name: 'gpu-2', jobIds: [], waitMs: 60_000 });
    await sleep(300);
    expect((await api(t.token, 'POST', '/runners/gpu-1/token')).status).toBe(200);
    expect((await api(t.token, 'DELETE', '/runners/gpu-2')).status).toBe(200);
    expect(await claim).toEqual({ status: 401, json: INVALID });
    expect(await heartbeat).toEqual({ status: 401, json: INVALID });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
