import { createServer as createHttpServer } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import type { LogLine } from '../../src/core/api.js';
import type { LogPage } from '../../src/core/log-api.js';
import { toOutput, type OutputEntry } from '../../src/core/log-batch.js';
import { LOG_FRAMES, type OutputLine } from '../../src/core/log-frames.js';
import type { JobRecord, LogEntry } from '../../src/core/records.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { startTestServer, type TestServer } from '../services/server.js';

/** A TCP proxy in front of the server whose connections the test can cut, or refuse while it is `down`. */
async function proxy(port: number): Promise<{ url: string; cut(): void; down: boolean; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (handle.down) return void client.destroy();
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const handle = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut: () => sockets.forEach((s) => s.destroy()),
    down: false,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return handle;
}

const lines = (from: number, to: number, t0 = 1_700_000_000_000, step = 10): OutputEntry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    seq: from + i,
    ts: t0 + (from + i) * step,
    stream: 'stdout' as const,
    bytes: Buffer.from(`line ${from + i}`),
  }));

/** `fetch` as a client of a server without log frames sees it: the Accept header is not sent on. */
const withoutFrames = (url: string, init: RequestInit) => {
  const headers = new Headers(init.headers);
  headers.delete('accept');
  return fetch(url, { ...init, headers });
};

describe('reading and following logs', () => {
  let t: TestServer;
  let jobs: JobRecord[];

  beforeAll(async () => {
    t = await startTestServer();
    const run = makeRun('logs-run', { submittedAt: Date.now() });
    jobs = [makeJob(run, 'a', { id: 'aaaaaaaaaaaa' }), makeJob(run, 'b', { id: 'bbbbbbbbbbbb' })];
    await t.server.engine.store.createRun(run, jobs, 'admin');
  });
  afterAll(() => t?.stop());

  it('a followed log survives dropped connections: every line arrives once, in order', async () => {
    const job = jobs[0]!;
    await t.server.engine.transition(job.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(job.id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    await t.server.engine.logs.append(job.id, lines(1, 30_000));
    const p = await proxy(Number(new URL(t.server.url).port));
    const client = new Client({ url: p.url, token: t.token });
    const got: OutputLine[] = [];
    const reconnects: string[] = [];
    let cuts = 0;
    const following = client.followLogs(job.id, {
      onLines: (batch) => {
        got.push(...batch);
        // Cut the connection twice while lines are flowing.
        if ((got.length > 10_000 && cuts === 0) || (got.length > 40_000 && cuts === 1)) {
          cuts++;
          p.cut();
        }
      },
      onInterrupted: (e) => reconnects.push(e.message),
    });
    await new Promise((r) => setTimeout(r, 300));
    await t.server.engine.logs.append(job.id, lines(30_001, 60_000));
    await new Promise((r) => setTimeout(r, 300));
    await t.server.engine.transition(job.id, 'RUNNING', 'FAILED', { reason: 'exit code 1' }, 'test');
    await following;
    await p.close();
    expect(cuts).toBe(2);
    expect(reconnects.length).toBeGreaterThanOrEqual(2);
    expect(got.map((l) => l.seq)).toEqual(Array.from({ length: 60_000 }, (_, i) => i + 1));
  });

  it('a server down for a while interrupts a follow once, and says when it is back', async () => {
    const run = makeRun('outage-run', { submittedAt: Date.now() });
    const job = makeJob(run, 'o', { id: '0123456789ab' });
    await t.server.engine.store.createRun(run, [job], 'admin');
    await t.server.engine.transition(job.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(job.id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    await t.server.engine.logs.append(job.id, lines(1, 10));
    const p = await proxy(Number(new URL(t.server.url).port));
    const client = new Client({ url: p.url, token: t.token });
    const said: string[] = [];
    let got = 0;
    const following = client.followLogs(job.id, {
      onLines: (batch) => {
        got += batch.length;
        said.push(`${batch.length} lines`);
      },
      onInterrupted: (e) => said.push(`interrupted: ${e.message}`),
      onResumed: () => said.push('resumed'),
    });
    while (got < 10) await new Promise((r) => setTimeout(r, 10));
    p.down = true; // its connection cut, and every new one refused: several tries at 250 ms, 500 ms, 1 s
    p.cut();
    await new Promise((r) => setTimeout(r, 2000));
    await t.server.engine.logs.append(job.id, lines(11, 15));
    p.down = false;
    await new Promise((r) => setTimeout(r, 2500));
    await t.server.engine.transition(job.id, 'RUNNING', 'DONE', {}, 'test');
    await following;
    await p.close();
    expect(said).toEqual(['10 lines', `interrupted: the connection to ${p.url} dropped`, 'resumed', '5 lines']);
  });

  it('a stream resumes after the cursor in Last-Event-ID, and each log event carries the cursor as its id', async () => {
    const job = jobs[0]!;
    const response = await fetch(`${t.server.url}/api/logs/stream?target=${job.id}`, {
      headers: { authorization: `Bearer ${t.token}`, 'last-event-id': `${job.id}:59990` },
    });
    const text = await response.text(); // the job is finished: the stream ends
    const events = text.split('\n\n').filter((e) => e.startsWith('event: log'));
    const sent = events.flatMap((e) => JSON.parse(/^data: (.*)$/m.exec(e)![1]!) as LogLine[]);
    expect(sent.map((l) => l.seq)).toEqual([59991, 59992, 59993, 59994, 59995, 59996, 59997, 59998, 59999, 60000]);
    expect(events.at(-1)).toContain(`id: ${job.id}:60000`);
  });

  it('followed and paged logs carry entries of several lines, partial and binary ones exactly as stored, from --since on', async () => {
    const run = makeRun('multi-line-run', { submittedAt: Date.now() });
    const job = makeJob(run, 'c', { id: 'cccccccccccc' });
    await t.server.engine.store.createRun(run, [job], 'admin');
    const stored: LogEntry[] = [
      { seq: 1, ts: 1000, stream: 'stdout', text: 'too early\nstill early' },
      { seq: 2, ts: 2000, stream: 'stdout', text: 'epoch 1\n\n"quoted" \\ λ 🚀\nprogress \r 10%', partial: true },
      { seq: 3, ts: 2000, stream: 'stdout', text: '\r 100%\ndone' },
      { seq: 4, ts: 2500.5, stream: 'stderr', text: '\ufffdA', raw: Buffer.from([0xff, 0x41]).toString('base64') },
    ];
    await t.server.engine.logs.append(
      job.id,
      stored.map((e) => toOutput(e)),
    );
    await t.server.engine.transition(job.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(job.id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    await t.server.engine.transition(job.id, 'RUNNING', 'FAILED', { reason: 'exit code 1' }, 'test');
    const expected = stored.slice(1).map((e) => ({ jobId: job.id, ...toOutput(e) }));
    // Frames (this client), and JSON with Server-Sent Events (a server without frames): the same lines.
    for (const fetchLike of [undefined, withoutFrames]) {
      const client = new Client({ url: t.server.url, token: t.token, ...(fetchLike ? { fetch: fetchLike } : {}) });
      const got: OutputLine[] = [];
      await client.followLogs(job.id, { since: 1500, onLines: (batch) => void got.push(...batch) });
      expect(got).toEqual(expected);
      const pages: OutputLine[] = [];
      for await (const page of client.logPages(job.id, 1500)) pages.push(...page);
      expect(pages).toEqual(expected);
    }
    // Browsers get each entry's output as text (binary as base64 in `raw`), as it was sent.
    const response = await fetch(`${t.server.url}/api/logs?target=${job.id}&since=1500`, {
      headers: { authorization: `Bearer ${t.token}` },
    });
    expect(((await response.json()) as LogPage).entries).toEqual(stored.slice(1).map((e) => ({ jobId: job.id, ...e })));
  });

  it('pages of a run merge its jobs in time order and continue where the last ended', async () => {
    const [a, b] = jobs as [JobRecord, JobRecord];
    // b's lines fall between a's: a every 10 ms from t0, b every 7 ms from t0 + 5.
    await t.server.engine.logs.append(b.id, lines(1, 500, 1_700_000_000_005, 7));
    const seen: LogLine[] = [];
    let cursor = '';
    let pages = 0;
    for (let more = true; more; pages++) {
      const q = new URLSearchParams({ target: 'logs-run', cursor, limit: '997', since: '1700000000000' });
      const response = await fetch(`${t.server.url}/api/logs?${q}`, {
        headers: { authorization: `Bearer ${t.token}` },
      });
      const page = (await response.json()) as LogPage;
      seen.push(...page.entries);
      ({ cursor, more } = page);
    }
    expect(pages).toBeGreaterThan(60);
    expect(seen).toHaveLength(60_500);
    const times = seen.map((l) => l.ts);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(seen.filter((l) => l.jobId === b.id).map((l) => l.seq)).toEqual(
      Array.from({ length: 500 }, (_, i) => i + 1),
    );
    expect(seen.filter((l) => l.jobId === a.id)).toHaveLength(60_000);
  });

  it('a log frame that cannot be read, or missing, is an error that says so, not lines made up from it', async () => {
    let body = '#{"event":"page",\n';
    const bad = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': LOG_FRAMES });
      response.end(body);
    });
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
    const client = new Client({ url: `http://127.0.0.1:${(bad.address() as { port: number }).port}`, token: 't' });
    try {
      await expect(client.logs('x')).rejects.toThrow(
        'the server sent a log frame that cannot be read: a record head is not valid JSON',
      );
      body = '\n'; // a keep-alive and nothing else: the page's frame never came
      await expect(client.logs('x')).rejects.toThrow('the server answered a log page without its frame');
    } finally {
      await new Promise((r) => bad.close(r));
    }
  });

  it('a follower sends the list of jobs as it changes, unless asked not to (jobs=false): the CLI, which shows only lines', async () => {
    const run = makeRun('jobs-event-run', { submittedAt: Date.now() });
    const job = makeJob(run, 'd', { id: 'dddddddddddd' });
    await t.server.engine.store.createRun(run, [job], 'admin');
    const stream = async (query: string) => {
      const response = await fetch(`${t.server.url}/api/logs/stream?target=${job.id}${query}`, {
        headers: { authorization: `Bearer ${t.token}` },
      });
      return (await response.text()).split('\n\n').map((e) => /^event: (\w+)/.exec(e)?.[1]);
    };
    const asked: string[] = [];
    const listed: JobRecord['status'][][] = [];
    const following = new Client({
      url: t.server.url,
      token: t.token,
      fetch: (url, init) => (asked.push(String(url)), fetch(url, init)),
    }).followLogs(job.id, { onLines: () => {}, onJobs: (list) => listed.push(list.map((j) => j.status)) });
    const onlyLines = new Client({
      url: t.server.url,
      token: t.token,
      fetch: (url, init) => (asked.push(String(url)), fetch(url, init)),
    }).followLogs(job.id, { onLines: () => {} });
    await new Promise((r) => setTimeout(r, 100));
    await t.server.engine.transition(job.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(job.id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    await t.server.engine.logs.append(job.id, lines(1, 3));
    await t.server.engine.transition(job.id, 'RUNNING', 'FAILED', { reason: 'exit code 1' }, 'test');
    await Promise.all([following, onlyLines]);
    expect(listed[0]).toEqual(['SUBMITTED']);
    expect(listed.at(-1)).toEqual(['FAILED']);
    expect(asked.filter((u) => u.includes('jobs=false'))).toHaveLength(1);
    // The finished job's stream, as a browser reads it: the list, then the end; without it, only the end.
    expect(await stream('')).toEqual(['log', 'jobs', 'end', undefined]);
    expect(await stream('&jobs=false')).toEqual(['log', 'end', undefined]);
    const refused = await fetch(`${t.server.url}/api/logs/stream?target=${job.id}&jobs=no`, {
      headers: { authorization: `Bearer ${t.token}` },
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/jobs.*'true' or 'false'/);
  });

  it("a follower gets each job's last lines, stored just before its end, however the end meets the follower's passes", async () => {
    // Each job's last batch and its end come together (a runner's `then`); the follower is
    // reading or waiting in between, at points that move from one round to the next.
    for (let round = 0; round < 12; round++) {
      const run = makeRun(`race-run-${round}`, { submittedAt: Date.now() });
      const racing = ['e', 'f', 'g'].map((w, i) =>
        makeJob(run, w, { id: `${i}${round.toString(16).padStart(2, '0')}`.padEnd(12, 'e') }),
      );
      await t.server.engine.store.createRun(run, racing, 'admin');
      for (const job of racing) {
        await t.server.engine.transition(job.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
        await t.server.engine.transition(job.id, 'DOWNLOADING', 'RUNNING', {}, 'test');
      }
      const got = new Map<string, number>();
      const following = new Client({ url: t.server.url, token: t.token }).followLogs(run.name, {
        onLines: (batch) => batch.forEach((l) => got.set(l.jobId, (got.get(l.jobId) ?? 0) + 1)),
      });
      for (const [i, job] of racing.entries()) {
        await t.server.engine.logs.append(job.id, lines(1, 5000));
        await new Promise((r) => setTimeout(r, (round * 7 + i * 11) % 30));
        await t.server.engine.logs.append(job.id, lines(5001, 5010));
        await t.server.engine.transition(job.id, 'RUNNING', 'DONE', {}, 'test');
      }
      await following;
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(racing.map((j) => [j.id, 5010])));
    }
  });

  it('a follower whose handler is still busy with a batch reads no further until it is done', async () => {
    const run = makeRun('held-run', { submittedAt: Date.now() });
    const job = makeJob(run, 'h', { id: 'abcabcabcabc' });
    await t.server.engine.store.createRun(run, [job], 'admin');
    await t.server.engine.transition(job.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(job.id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    await t.server.engine.logs.append(job.id, lines(1, 10));
    const batches: number[][] = [];
    let busy = false;
    let overlapped = false;
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let firstBatch: () => void = () => {};
    const gotFirst = new Promise<void>((r) => (firstBatch = r));
    const following = new Client({ url: t.server.url, token: t.token }).followLogs(job.id, {
      onLines: async (batch) => {
        overlapped ||= busy;
        busy = true;
        batches.push(batch.map((l) => l.seq));
        firstBatch();
        if (batches.length === 1) await held; // the terminal is slow to take the first batch
        busy = false;
      },
    });
    await gotFirst;
    await t.server.engine.logs.append(job.id, lines(11, 20));
    await t.server.engine.transition(job.id, 'RUNNING', 'DONE', {}, 'test');
    await new Promise((r) => setTimeout(r, 100)); // room for a second batch, were it read
    expect(batches).toHaveLength(1);
    release();
    await following;
    expect(overlapped).toBe(false);
    expect(batches.flat()).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('a bad cursor is refused with what it should look like', async () => {
    const response = await fetch(`${t.server.url}/api/logs?target=logs-run&cursor=nope`, {
      headers: { authorization: `Bearer ${t.token}` },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('jobId:seq pairs separated by commas');
  });
});
