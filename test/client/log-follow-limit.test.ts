/**
 * A follow whose connection a proxy cut, while the server still holds that stream (it has not
 * seen it close), is refused one stream too many when it reconnects: it tries again until the
 * server lets the old one go, and resumes. The first connection's refusal is an answer: it says
 * why, at once.
 */
import { createServer, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import type { OutputEntry } from '../../src/core/log-batch.js';
import { TooManyRequestsError } from '../../src/core/errors.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { startTestServer, type TestServer } from '../services/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const line = (seq: number): OutputEntry => ({
  seq,
  ts: Date.now(),
  stream: 'stdout',
  bytes: Buffer.from(`line ${seq}`),
});

/** A proxy whose `cutClients` drops the clients' side only: the server's side stays open until `closeUpstreams`. */
async function halfProxy(port: number) {
  const clients = new Set<Socket>();
  const upstreams = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    clients.add(client);
    upstreams.add(upstream);
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', () => clients.delete(client));
    upstream.on('close', () => (upstreams.delete(upstream), client.destroy()));
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => void (client.destroyed || client.write(d)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    cutClients: () => clients.forEach((s) => s.destroy()),
    closeUpstreams: () => upstreams.forEach((s) => s.destroy()),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('a follow refused one stream too many', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ maxLogStreamsPerUser: 1 });
  });
  afterAll(() => t?.stop());

  const runningJob = async (name: string, id: string) => {
    const run = makeRun(name, { submittedAt: Date.now(), user: 'admin' });
    await t.server.engine.store.createRun(run, [makeJob(run, 'a', { id })], 'test');
    await t.server.engine.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(id, 'DOWNLOADING', 'RUNNING', {}, 'test');
  };

  it('after a drop, tries again until the server lets the dropped stream go, and resumes', async () => {
    const id = 'f10000000001';
    await runningJob('limit-drop', id);
    await t.server.engine.logs.append(id, [line(1)]);
    const p = await halfProxy(Number(new URL(t.server.url).port));
    const client = new Client({ url: p.url, token: t.token });
    const said: string[] = [];
    const got: number[] = [];
    const following = client.followLogs(id, {
      onLines: (lines) => void got.push(...lines.map((l) => l.seq)),
      onInterrupted: (e) => said.push(`interrupted: ${e.message}`),
      onResumed: () => said.push('resumed'),
    });
    while (got.length < 1) await sleep(10);
    p.cutClients(); // the server still holds the stream: reconnections are refused meanwhile
    await sleep(1500);
    expect(said).toEqual([`interrupted: the connection to ${p.url} dropped`]);
    p.closeUpstreams();
    await t.server.engine.logs.append(id, [line(2)]);
    for (const until = Date.now() + 10_000; !said.includes('resumed') && Date.now() < until;) await sleep(20);
    expect(said).toEqual([`interrupted: the connection to ${p.url} dropped`, 'resumed']);
    await t.server.engine.transition(id, 'RUNNING', 'DONE', {}, 'test');
    await following;
    await p.close();
    expect(got).toEqual([1, 2]);
  });

  it("refuses the first connection at once, with the server's reason", async () => {
    const id = 'f10000000002';
    await runningJob('limit-first', id);
    const held = new AbortController();
    const open = await fetch(`${t.server.url}/api/logs/stream?target=${id}`, {
      headers: { authorization: `Bearer ${t.token}` },
      signal: held.signal,
    });
    expect(open.status).toBe(200);
    const client = new Client({ url: t.server.url, token: t.token });
    const refused = client.followLogs(id, { onLines: () => {} });
    await expect(refused).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(refused).rejects.toThrow("too many log streams open: user 'admin' has 1 open");
    held.abort();
  });
});
