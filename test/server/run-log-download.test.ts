/**
 * `GET /api/runs/:name/log`: every job's log of a run as `dstack logs RUN` prints it (its own
 * printer, cli/log-printer.ts, over the pages `GET /api/logs` reads), each line under its job's
 * prefix, merged in time order however many pages and jobs; and its refusals in words. The real
 * app over a real SQLite store and log store.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogCursor } from '../../src/core/log-api.js';
import type { OutputEntry } from '../../src/core/log-batch.js';
import type { JobRecord } from '../../src/core/records.js';
import { LogPrinter } from '../../src/cli/log-printer.js';
import { issueToken } from '../../src/server/auth.js';
import { readLogPage } from '../../src/server/api/log-page.js';
import type { Engine } from '../../src/server/engine.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { testApp, type TestApp } from './app-fixture.js';

const T0 = 1_700_000_000_000;
const out = (seq: number, ts: number, text: string, extra: Partial<OutputEntry> = {}): OutputEntry => ({
  seq,
  ts: T0 + ts,
  stream: 'stdout',
  bytes: Buffer.from(text),
  ...extra,
});

describe("a run's whole log", () => {
  let app: TestApp;
  let engine: Engine;
  let ada: string;
  let bob: string;
  let dir: string;
  const get = (token: string, path: string) => app.request(path, { headers: { authorization: `Bearer ${token}` } });
  const errorOf = async (response: Response) =>
    ((await response.json()) as { error: { message: string } }).error.message;
  /** What `dstack logs RUN` prints for `jobs` to one place (a file, `2>&1`): its printer over the pages the CLI reads. */
  const printed = async (jobs: JobRecord[]) => {
    const chunks: Buffer[] = [];
    const sink = { write: (b: Buffer | string) => (chunks.push(Buffer.from(b)), true) };
    const printer = new LogPrinter({ stdout: sink, stderr: sink }, true);
    const sources = jobs.map((j) => ({ jobId: j.id, logId: j.cachedFrom ?? j.id }));
    let cursor: LogCursor = new Map();
    for (;;) {
      const page = await readLogPage(engine.logs, sources, cursor, undefined, 20_000);
      printer.print(
        page.entries.map(({ jobId, entry }) => ({ jobId, ...entry })),
        jobs,
      );
      cursor = new Map(
        page.cursor ? page.cursor.split(',').map((p) => [p.split(':')[0]!, Number(p.split(':')[1])]) : [],
      );
      if (!page.more) break;
    }
    printer.end();
    return Buffer.concat(chunks).toString();
  };

  beforeAll(async () => {
    const fixture = await testApp('run-log');
    ({ app, engine, dir } = fixture);
    const { store } = fixture;
    [ada, bob] = await Promise.all([issueToken(store, 'user', 'ada', false), issueToken(store, 'user', 'bob', false)]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is the text dstack logs RUN prints: jobs merged in time order, each line under its prefix', async () => {
    const run = makeRun('two-jobs-1');
    const jobs = [makeJob(run, 'prepare', { id: 'a00000000001' }), makeJob(run, 'train', { id: 'a00000000002' })];
    await engine.store.createRun(run, jobs, 'test');
    await engine.logs.append('a00000000001', [
      out(1, 1, 'fetching\ndone'),
      out(2, 4, 'Downloading ', { partial: true }),
      out(3, 6, '100%'),
    ]);
    await engine.logs.append('a00000000002', [
      out(1, 2, 'warning: slow', { stream: 'stderr' }),
      out(2, 5, '10%\r50%\r', { partial: true }), // cuts prepare's unfinished line; redraws in place
      out(3, 7, '100%'),
    ]);
    const response = await get(ada, '/api/runs/two-jobs-1/log');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="two-jobs-1.log"');
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await response.text();
    expect(text).toBe(
      'prepare | fetching\nprepare | done\ntrain   | warning: slow\nprepare | Downloading \n' +
        'train   | 10%\rtrain   | 50%\rtrain   | \nprepare | 100%\ntrain   | 100%\n',
    );
    expect(text).toBe(await printed(jobs));
  });

  it("of a run of one job has no prefix, and a cached job's is the log it reuses", async () => {
    const run = makeRun('one-job-1');
    await engine.store.createRun(run, [makeJob(run, 'train', { id: 'b00000000001' })], 'test');
    await engine.logs.append('b00000000001', [out(1, 1, 'hello'), out(2, 2, 'bye', { partial: true })]);
    expect(await (await get(ada, '/api/runs/one-job-1/log')).text()).toBe('hello\nbye\n');
    const cached = makeRun('cached-1');
    const job = makeJob(cached, 'train', { id: 'b00000000002', status: 'DONE', cachedFrom: 'b00000000001' });
    await engine.store.createRun(cached, [job], 'test');
    expect(await (await get(ada, '/api/runs/cached-1/log')).text()).toBe('hello\nbye\n');
  });

  it('merges many jobs with long logs in time order across pages, every line once', async () => {
    const run = makeRun('many-jobs-1');
    // 140 jobs: each log's share of a page is its floor (64 KiB), and each log takes three pages.
    const jobs = Array.from({ length: 140 }, (_, i) =>
      makeJob(run, `w${i}`, { id: `c${String(i).padStart(11, '0')}` }),
    );
    await engine.store.createRun(run, jobs, 'test');
    for (const [i, job] of jobs.entries()) {
      const entries = Array.from({ length: 150 }, (_, k) =>
        out(k + 1, k * 140 + ((i * 7) % 140), `${job.ref} ${k} ${'x'.repeat(1200)}`),
      );
      await engine.logs.append(job.id, entries);
    }
    const text = await (await get(ada, '/api/runs/many-jobs-1/log')).text();
    expect(text.split('\n').length - 1).toBe(140 * 150);
    expect(text).toBe(await printed(jobs));
  });

  it("is refused for another user's run as for one that does not exist, and for a job's id", async () => {
    const theirs = await get(bob, '/api/runs/one-job-1/log');
    expect(theirs.status).toBe(404);
    expect(await errorOf(theirs)).toBe("no run or job named 'one-job-1' (see 'dstack status --last 10')");
    const none = await get(ada, '/api/runs/no-such-run/log');
    expect(await errorOf(none)).toBe("no run or job named 'no-such-run' (see 'dstack status --last 10')");
    const job = await get(ada, '/api/runs/b00000000001/log');
    expect(job.status).toBe(404);
    expect(await errorOf(job)).toBe(
      "'b00000000001' is a job of run one-job-1, not a run: name the run, or download the job's own log",
    );
    expect((await app.request('/api/runs/one-job-1/log')).status).toBe(401);
  });
});
