/**
 * `GET /api/logs/stream?tail=N`: a reader starts at a log's last N lines (whole entries)
 * rather than at its top, however many lines each entry holds; a cursor still wins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../../src/core/api.js';
import type { OutputEntry } from '../../src/core/log-batch.js';
import type { JobRecord } from '../../src/core/records.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { startTestServer, type TestServer } from '../services/server.js';

/** Entries `from`..`to`, each of `per` lines `line SEQ.I`. */
const entries = (from: number, to: number, per: number): OutputEntry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    seq: from + i,
    ts: 1_700_000_000_000 + from + i,
    stream: 'stdout' as const,
    bytes: Buffer.from(Array.from({ length: per }, (_, k) => `line ${from + i}.${k}`).join('\n')),
  }));

describe('following a log from its tail', () => {
  let t: TestServer;
  const finishedJob = async (id: string, log: OutputEntry[]): Promise<JobRecord> => {
    const run = makeRun(`tail-${id}`, { submittedAt: Date.now() });
    const job = makeJob(run, 'a', { id });
    await t.server.engine.store.createRun(run, [job], 'admin');
    await t.server.engine.logs.append(id, log);
    await t.server.engine.transition(id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    await t.server.engine.transition(id, 'DOWNLOADING', 'RUNNING', {}, 'test');
    await t.server.engine.transition(id, 'RUNNING', 'DONE', {}, 'test');
    return job;
  };
  /** The entries a stream sent before its end (the job is finished). */
  const streamed = async (query: string, headers: Record<string, string> = {}): Promise<LogLine[]> => {
    const response = await fetch(`${t.server.url}/api/logs/stream?${query}`, {
      headers: { authorization: `Bearer ${t.token}`, ...headers },
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(text);
    const events = text.split('\n\n').filter((e) => e.startsWith('event: log'));
    return events.flatMap((e) => JSON.parse(/^data: (.*)$/m.exec(e)![1]!) as LogLine[]);
  };

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.stop());

  it('sends the last entries that hold N lines, of one line each', async () => {
    const job = await finishedJob('a00000000001', entries(1, 20_000, 1));
    const sent = await streamed(`target=${job.id}&tail=3000`);
    expect(sent.length).toBe(3000);
    expect(sent[0]!.seq).toBe(17_001);
    expect(sent.at(-1)!.text).toBe('line 20000.0');
  });

  it('sends whole entries: a few of many lines each', async () => {
    const job = await finishedJob('a00000000002', entries(1, 300, 1000));
    const sent = await streamed(`target=${job.id}&tail=2500`);
    expect(sent.map((e) => e.seq)).toEqual([298, 299, 300]);
    expect(sent[0]!.text.split('\n')[0]).toBe('line 298.0');
  });

  it('sends the whole log when it is shorter, and resumes after a cursor rather than the tail', async () => {
    const job = await finishedJob('a00000000003', entries(1, 50, 2));
    expect((await streamed(`target=${job.id}&tail=3000`)).length).toBe(50);
    const resumed = await streamed(`target=${job.id}&tail=10`, { 'last-event-id': `${job.id}:45` });
    expect(resumed.map((e) => e.seq)).toEqual([46, 47, 48, 49, 50]);
    const empty = await finishedJob('a00000000004', []);
    expect(await streamed(`target=${empty.id}&tail=5`)).toEqual([]);
  });

  it('refuses a tail that is not a positive count', async () => {
    await expect(streamed('target=a00000000001&tail=0')).rejects.toThrow(
      'invalid request: tail: Too small: expected number to be >=1',
    );
  });
});
