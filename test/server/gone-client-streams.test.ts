/**
 * A client that goes away before its answer starts (a closed tab, `curl -m`, a proxy's timeout)
 * leaves nothing behind. A followed log whose socket closed while the server was still looking
 * up the run was never read nor cancelled (@hono/node-server skips the stream of a closed
 * socket), and its follower held the jobs, a pending write of up to a log window, a listener on
 * every job change and on the log, and a token check, for as long as the server ran; a blob's
 * download held its open file. A slow database or store (a call delayed here) makes the window
 * wide; the server, its sockets and their closing are real.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutputEntry } from '../../src/core/log-batch.js';
import { LOG_FRAMES } from '../../src/core/log-frames.js';
import { createApp } from '../../src/server/app.js';
import { ServerKey } from '../../src/server/crypto.js';
import { inProcessFetch } from '../../src/server/in-process-fetch.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { startTestServer, type TestServer } from '../services/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const JOB = 'd00000000001';

/** Send a request and close the socket once it is sent, without reading a byte of the answer. */
function requestAndLeave(url: string, head: string, body = ''): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${head}\r\nhost: ${hostname}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on('error', reject);
  });
}

/**
 * `target[method]` answers `ms` late (a slow or distant database) until `restore` is called;
 * `calls` counts the calls meanwhile, `answered` those answered.
 */
function slowDown<T extends object>(target: T, method: keyof T & string, ms: number) {
  const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  const slowed = { calls: 0, answered: 0, restore: () => void Object.assign(target, { [method]: original }) };
  Object.assign(target, {
    [method]: async (...args: unknown[]) => {
      slowed.calls++;
      await sleep(ms);
      return original(...args).finally(() => slowed.answered++);
    },
  });
  return slowed;
}

/** Files under `folder` this process holds open. */
function openFilesUnder(folder: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(folder)) n++;
    } catch {
      // closed meanwhile (the listing's own fd among them)
    }
  }
  return n;
}

describe('a client gone before its answer starts', () => {
  let t: TestServer;
  const store = () => t.server.engine.store;
  const jobListeners = () => t.server.engine.events.listenerCount('job');
  const logListeners = () => t.server.engine.logs.listenerCount(JOB);
  /** Resolves once `count` is `expected`, or fails saying what it stayed at. */
  const settlesAt = async (what: string, count: () => number, expected: number, ms = 3000) => {
    for (const until = Date.now() + ms; count() !== expected && Date.now() < until;) await sleep(20);
    expect(count(), what).toBe(expected);
  };
  /** `send` while `method` of `target` is slow, then until every request is past it. */
  const whileSlow = async <T extends object>(target: T, method: keyof T & string, send: () => Promise<unknown>) => {
    const slowed = slowDown(target, method, 200);
    try {
      await send();
      await sleep(400);
    } finally {
      slowed.restore();
    }
    expect(slowed.calls).toBeGreaterThan(0);
  };
  const api = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${t.server.url}/api${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    t = await startTestServer();
    t.server.engine.tokenRecheckMs = 50;
    // A finished run with a 4 MB log: a follower's first write is a whole window.
    const run = makeRun('gone-client', { submittedAt: Date.now() });
    await store().createRun(run, [makeJob(run, 'a', { id: JOB })], 'test');
    await t.server.engine.transition(JOB, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(JOB, 'DOWNLOADING', 'RUNNING', {}, 'test');
    const entries: OutputEntry[] = [];
    for (let seq = 1; seq <= 64; seq++)
      entries.push({ seq, ts: Date.now(), stream: 'stdout', bytes: Buffer.alloc(64 * 1024, 'x') });
    await t.server.engine.logs.append(JOB, entries);
    await t.server.engine.transition(JOB, 'RUNNING', 'UPLOADING', {}, 'test');
    await t.server.engine.transition(JOB, 'UPLOADING', 'DONE', {}, 'test');
  });
  afterAll(() => t?.stop());

  const followAndLeave = (query: string, accept: string) =>
    requestAndLeave(
      t.server.url,
      `GET /api/logs/stream?target=${JOB}${query} HTTP/1.1\r\naccept: ${accept}\r\nauthorization: Bearer ${t.token}`,
    );

  it.each([
    ['while the run is looked up', 'getRun' as const, '', 'text/event-stream'],
    ['while its token is checked', 'findToken' as const, '', 'text/event-stream'],
    ['while the tail is looked up (frames)', 'getRun' as const, '&tail=1000&jobs=false', LOG_FRAMES],
  ])('leaves no log follower when it left %s', async (_, method, query, accept) => {
    const [jobsBefore, logBefore] = [jobListeners(), logListeners()];
    await whileSlow(store(), method, () =>
      Promise.all(Array.from({ length: 10 }, () => followAndLeave(query, accept))),
    );
    await settlesAt('listeners on job changes', jobListeners, jobsBefore);
    await settlesAt('listeners on the log', logListeners, logBefore);
    // No token check goes on asking for a follower that is gone.
    const checks = slowDown(store(), 'findToken', 0);
    await sleep(300);
    checks.restore();
    expect(checks.calls).toBe(0);
  });

  it('ends the follower of an in-process client that aborts without reading the stream', async () => {
    const before = jobListeners();
    const send = inProcessFetch(createApp(t.server.engine, ServerKey.forDataDir(t.dataDir)));
    const controller = new AbortController();
    const response = await send(`http://in-process/api/logs/stream?target=${JOB}`, {
      headers: { authorization: `Bearer ${t.token}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    await settlesAt('the follower, waiting on its first write', jobListeners, before + 1);
    controller.abort();
    await settlesAt('listeners on job changes', jobListeners, before);
    expect(logListeners()).toBe(0);
  });

  it('still follows for a client that stays', async () => {
    const before = jobListeners();
    const response = await api(`/logs/stream?target=${JOB}&tail=1`, t.token);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('event: end');
    await settlesAt('listeners on job changes', jobListeners, before);
  });

  it('leaves no blob file open when it left while the blob was looked up', async () => {
    const data = Buffer.alloc(16 << 20, 'b'); // more than a socket's buffers take in
    const digest = createHash('sha256').update(data).digest('hex');
    expect((await api(`/blobs/${digest}`, t.token, { method: 'PUT', body: data })).status).toBe(201);
    const before = openFilesUnder(t.dataDir);
    const gets = slowDown(t.server.engine.blobs, 'get', 0);
    const head = `GET /api/blobs/${digest} HTTP/1.1\r\nauthorization: Bearer ${t.token}`;
    try {
      await whileSlow(t.server.engine.blobs, 'size', () =>
        Promise.all(Array.from({ length: 10 }, () => requestAndLeave(t.server.url, head))),
      );
      await settlesAt('downloads past the slow look-ups', () => gets.answered, 10);
    } finally {
      gets.restore();
    }
    await sleep(200); // a file opens just after its stream is made
    await settlesAt('files open in the data folder', () => openFilesUnder(t.dataDir), before);
  });

  // Not open to the hole: a runner's request body is read before it waits, which either fails
  // (the socket is gone) or makes the request's signal, which the socket's closing aborts.
  it.each([
    ['claim', 'findToken'],
    ['heartbeat', 'heartbeat'],
  ] as const)("ends a runner's long-polled %s when the runner left during %s", async (poll, method) => {
    const name = `gone-${poll}-${method.toLowerCase()}`;
    const { token } = (await (
      await api('/runners', t.token, { method: 'POST', body: JSON.stringify({ name }) })
    ).json()) as {
      token: string;
    };
    const total = { cpu: 1, memory: 0, gpus: [] };
    const registered = await api('/runner/register', token, {
      method: 'POST',
      body: JSON.stringify({ name, host: 'h', total, jobIds: [] }),
    });
    expect(registered.status).toBe(200);
    const waiting = () => t.server.engine.events.listenerCount('close');
    const before = waiting();
    const body = JSON.stringify({ name, jobIds: [], waitMs: 60_000 });
    const head = `POST /api/runner/${poll} HTTP/1.1\r\ncontent-type: application/json\r\nauthorization: Bearer ${token}`;
    await whileSlow(store(), method, () => requestAndLeave(t.server.url, head, body));
    await settlesAt('long polls waiting', waiting, before);
  });
});
