/**
 * What a log store keeps per job stays bounded on a long-running server: a job's append queue
 * goes once its appends are done, and the states of the logs opened (every assigned job's,
 * every job whose log is read) are capped, one let go loaded again from its file when used.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutputEntry } from '../../src/core/log-batch.js';
import { LogStore } from '../../src/server/storage/log-store.js';

const root = await mkdtemp(join(tmpdir(), 'dstack-log-memory-'));
afterAll(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
const newStore = () => new LogStore(join(root, `logs-${++dirs}`));
const jobId = (n: number) => n.toString(16).padStart(12, '0');

function entries(from: number, to: number): OutputEntry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    seq: from + i,
    ts: 1_700_000_000_000 + (from + i) * 1000,
    stream: 'stdout' as const,
    bytes: Buffer.from(`line ${from + i}`),
  }));
}

async function seqs(store: LogStore, job: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of store.entries(job)) out.push(e.seq);
  return out;
}

describe('LogStore memory per job', () => {
  it("keeps no append queue once a job's appends are done, and keeps their order meanwhile", async () => {
    const store = newStore();
    const jobs = Array.from({ length: 500 }, (_, i) => jobId(i + 1));
    // Batches sent at once keep their order.
    await Promise.all(jobs.flatMap((job) => [store.append(job, entries(1, 3)), store.append(job, entries(4, 6))]));
    expect(store.held().queues).toBe(0);
    expect(await seqs(store, jobs[0]!)).toEqual([1, 2, 3, 4, 5, 6]);
    // A refused append (a gap inside its batch) lets the queue go too.
    await expect(store.append(jobs[1]!, [...entries(7, 7), ...entries(9, 9)])).rejects.toThrow('leaves a gap');
    expect(store.held().queues).toBe(0);
  });

  it('keeps the states of at most 4096 logs, and one let go reads and appends right when used again', async () => {
    const store = newStore();
    const first = jobId(1);
    await store.append(first, entries(1, 2500));
    // The scheduler opens every assigned job's log (most never print).
    for (let i = 2; i <= 5000; i++) expect(await store.lastSequence(jobId(i))).toBe(0);
    expect(store.held().states).toBeLessThanOrEqual(4096);
    // The first log's state went first: loaded again, it knows its end.
    expect(await store.lastSequence(first)).toBe(2500);
    expect(await store.append(first, entries(2400, 2600))).toBe(2600);
    expect(await seqs(store, first)).toEqual(Array.from({ length: 2600 }, (_, i) => i + 1));
  });

  it('delete lets go of what it kept for the job', async () => {
    const store = newStore();
    const job = jobId(7);
    const appending = store.append(job, entries(1, 100));
    await store.delete(job); // after the append under way
    await appending;
    expect(store.held()).toEqual({ states: 0, queues: 0 });
    expect(await seqs(store, job)).toEqual([]);
  });
});
