/**
 * `POST /api/runner/jobs/:id/logs` on the real app over a real SQLite store and log store:
 * the runner's client sends log batches (output as bytes), older runners' JSON still works,
 * and a bad body is refused with a message that says what is wrong.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RunnerClient } from '../../src/client/runner-client.js';
import type { LogPage } from '../../src/core/log-api.js';
import type { LogEntry } from '../../src/core/records.js';
import { issueToken } from '../../src/server/auth.js';
import type { Engine } from '../../src/server/engine.js';
import { testApp, type TestApp } from './app-fixture.js';
import { inProcessFetch } from '../../src/server/in-process-fetch.js';
import { makeJob, makeRun } from '../store/fixtures.js';

const JOB = 'aaaaaaaaaaaa';
const OLD = 'bbbbbbbbbbbb';
const LAST = 'cccccccccccc';

describe('the runner log route', () => {
  let app: TestApp;
  let ada: string;
  let runner: string;
  let other: string;
  let engine: Engine;

  const post = async (token: string, id: string, body: Buffer | string, query = '') => {
    const response = await app.request(`/api/runner/jobs/${id}/logs${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const read = async (target: string): Promise<LogPage> => {
    const response = await app.request(`/api/logs?target=${target}`, { headers: { authorization: `Bearer ${ada}` } });
    return (await response.json()) as LogPage;
  };
  const client = () => new RunnerClient({ url: 'http://127.0.0.1:1', token: runner, fetch: inProcessFetch(app) });

  beforeAll(async () => {
    const fixture = await testApp('log-route');
    const store = fixture.store;
    app = fixture.app;
    [ada, runner, other] = await Promise.all([
      issueToken(store, 'user', 'ada', false),
      issueToken(store, 'runner', 'gpu-1', false),
      issueToken(store, 'runner', 'gpu-2', false),
    ]);
    const run = makeRun('chatty-run');
    await store.createRun(
      run,
      [JOB, OLD, LAST].map((id, i) => makeJob(run, ['a', 'b', 'c'][i]!, { id })),
      'test',
    );
    for (const id of [JOB, OLD, LAST])
      await store.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'gpu-1' }, 'test');
    await store.transition(LAST, 'DOWNLOADING', 'RUNNING', {}, 'test');
    engine = fixture.engine;
  });

  it('stores what the client sends as a batch, text, partial and binary alike, and a re-send once', async () => {
    const entries: LogEntry[] = [
      { seq: 1, ts: 10, stream: 'stdout', text: 'one\ntwo "quoted" é' },
      { seq: 2, ts: 11, stream: 'stderr', text: 'progress \r 50%', partial: true },
      { seq: 3, ts: 12, stream: 'stdout', text: '\ufffd\u0000', raw: Buffer.from([0xff, 0x00]).toString('base64') },
      { seq: 4, ts: 13, stream: 'stdout', text: '' },
    ];
    expect(await client().appendLogs(JOB, entries)).toBe(4);
    // The shipper passes the output bytes it has; a re-send with the same sequence numbers adds nothing.
    const bytes = [Buffer.from(entries[0]!.text), Buffer.from(entries[1]!.text), Buffer.from([0xff, 0x00])];
    expect(await client().appendLogs(JOB, entries.slice(0, 3), bytes)).toBe(4);
    const page = await read(JOB);
    expect(page.entries).toStrictEqual(entries.map((e) => ({ jobId: JOB, ...e })));
  });

  it('still takes the JSON body of older runners', async () => {
    const r = await post(runner, OLD, JSON.stringify({ entries: [{ seq: 1, ts: 5, stream: 'stdout', text: 'hi' }] }));
    expect(r).toStrictEqual({ status: 200, json: { lastSeq: 1 } });
    expect((await read(OLD)).entries).toStrictEqual([{ jobId: OLD, seq: 1, ts: 5, stream: 'stdout', text: 'hi' }]);
  });

  it('refuses a body that is not a whole, valid batch, saying what is wrong', async () => {
    const head = (heads: unknown[]) => `#${JSON.stringify(heads)}\n`;
    const one = { seq: 9, ts: 1, stream: 'stdout', n: 3 };
    const cases: [Buffer | string, string][] = [
      ['hello', 'request body is neither a log batch nor valid JSON'],
      ['#[{"seq":\n', 'the head line of a log batch is not valid JSON'],
      [
        head([{ ...one, stream: 'stdin' }]) + 'abc\n',
        "a log batch's head line is an array of at most 100000 entries: seq (a positive integer), ts (ms), stream (stdout or stderr), n (bytes), and optionally partial and raw (true)",
      ],
      [head([one]) + 'ab\n', "a log batch's output is 2 bytes where its entries say 3"],
      [head([one]) + 'abcd\n', "a log batch's output is 4 bytes where its entries say 3"],
      [
        Buffer.concat([Buffer.from(head([one])), Buffer.from([0x61, 0xff, 0x62, 0x0a])]),
        'log entry 9 is not UTF-8: send it with raw',
      ],
    ];
    for (const [body, message] of cases) {
      expect(await post(runner, JOB, body)).toStrictEqual({
        status: 400,
        json: { error: { code: 'invalid', message } },
      });
    }
    expect((await read(JOB)).entries).toHaveLength(4); // nothing of them stored
  });

  it("with `then`, stores the batch and then makes the transition: a job's last output and its end in one request", async () => {
    const entries: LogEntry[] = [{ seq: 1, ts: 20, stream: 'stdout', text: 'the last line' }];
    // Whoever sees the job DONE can read its last line already: the line is stored first.
    const order: string[] = [];
    const seen = (job: { id: string; status: string }) => {
      if (job.id === LAST) order.push(job.status);
    };
    engine.events.on('job', seen);
    const unsubscribe = engine.logs.subscribe(LAST, () => order.push('line stored'));
    try {
      const answer = await client().appendLogsThen(LAST, entries, undefined, {
        from: 'RUNNING',
        to: 'DONE',
        reason: 'exit code 0',
        exitCode: 0,
      });
      expect(answer).toMatchObject({ ok: true, job: { id: LAST, status: 'DONE', exitCode: 0 } });
    } finally {
      engine.events.off('job', seen);
      unsubscribe();
    }
    expect(order).toStrictEqual(['line stored', 'DONE']);
    expect((await read(LAST)).entries.map((e) => e.text)).toStrictEqual(['the last line']);
    // Sent again (its answer lost): the line is kept once, and the answer says the job is DONE.
    const again = await client().appendLogsThen(LAST, entries, undefined, { from: 'RUNNING', to: 'DONE' });
    expect(again).toStrictEqual({ ok: false, actual: 'DONE' });
    expect((await read(LAST)).entries).toHaveLength(1);
  });

  it('refuses a `then` that is not a transition, saying so, and stores nothing of the batch', async () => {
    const batch = `#${JSON.stringify([{ seq: 7, ts: 1, stream: 'stdout', n: 1 }])}\nx\n`;
    const cases: [string, string][] = [
      ['{"from":', "query parameter 'then' is not valid JSON"],
      [JSON.stringify({ from: 'RUNNING', to: 'FINISHED' }), "query parameter 'then': to: Invalid option"],
      [JSON.stringify({ to: 'DONE' }), "query parameter 'then': from: Invalid option"],
    ];
    for (const [then, message] of cases) {
      const r = await post(runner, JOB, batch, `?then=${encodeURIComponent(then)}`);
      expect(r.status).toBe(400);
      expect((r.json.error as { message: string }).message).toContain(message);
    }
    expect((await read(JOB)).entries).toHaveLength(4);
  });

  it('takes a batch only from the runner the job is assigned to, and only with a runner token', async () => {
    const batch = `#${JSON.stringify([{ seq: 5, ts: 1, stream: 'stdout', n: 1 }])}\nx\n`;
    expect(await post(other, JOB, batch)).toStrictEqual({
      status: 403,
      json: { error: { code: 'forbidden', message: `job ${JOB} is not assigned to this runner` } },
    });
    expect((await post(ada, JOB, batch)).status).toBe(403);
    expect((await read(JOB)).entries).toHaveLength(4);
  });
});
