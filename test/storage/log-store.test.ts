import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/core/records.js';
import { LogStore } from '../../src/server/storage/log-store.js';

const root = await mkdtemp(join(tmpdir(), 'dstack-logs-'));
afterAll(() => rm(root, { recursive: true, force: true }));
let jobs = 0;
const newJob = () => (++jobs).toString(16).padStart(12, '0');
let dirs = 0;
const newStore = () => new LogStore(join(root, `logs-${++dirs}`));

/** Entries `from`..`to`, a second apart from t0, with a line of `width` characters. */
function entries(from: number, to: number, width = 20, t0 = 1_700_000_000_000): LogEntry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    seq: from + i,
    ts: t0 + (from + i) * 1000,
    stream: 'stdout' as const,
    text: `line ${from + i} `.padEnd(width, 'x'),
  }));
}

async function all(store: LogStore, job: string, query = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of store.entries(job, query)) out.push(e);
  return out;
}

describe('LogStore', () => {
  it('stores each entry once in sequence order: a re-sent batch doubles nothing, a gap is refused', async () => {
    const store = newStore();
    const job = newJob();
    expect(await store.append(job, entries(1, 3))).toBe(3);
    expect(await store.append(job, entries(2, 5))).toBe(5);
    await expect(store.append(job, entries(7, 8))).rejects.toThrow(`log entry 7 of job ${job} leaves a gap after 5`);
    expect((await all(store, job)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps partial and raw fields as given', async () => {
    const store = newStore();
    const job = newJob();
    const given: LogEntry[] = [
      { seq: 1, ts: 1, stream: 'stdout', text: '\r 10%', partial: true },
      { seq: 2, ts: 2, stream: 'stderr', text: '\ufffd', raw: Buffer.from([0xff]).toString('base64') },
    ];
    await store.append(job, given);
    expect(await all(store, job)).toEqual(given);
  });

  it('--since and after-seq reads start near their entry, not at the top of a long log', async () => {
    const store = newStore();
    const job = newJob();
    for (let i = 0; i < 50; i++) await store.append(job, entries(i * 1000 + 1, (i + 1) * 1000));
    const size = (await stat(join(root, `logs-${dirs}`, `${job}.jsonl`))).size;
    const since = 1_700_000_000_000 + 49_500 * 1000;
    // The index points to within one interval (1000 entries) of the entry asked for.
    expect(await store.offsetForTime(job, since)).toBeGreaterThan(size * 0.95);
    const recent = await all(store, job, { since });
    expect(recent.map((e) => e.seq)).toEqual(Array.from({ length: 501 }, (_, i) => 49_500 + i));
    const after = await all(store, job, { afterSeq: 48_765 });
    expect(after[0]?.seq).toBe(48_766);
    expect(after).toHaveLength(50_000 - 48_765);
    const both = await all(store, job, { afterSeq: 49_990, since: 1_700_000_000_000 });
    expect(both.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 49_991 + i));
  });

  it('finds every entry at or after --since even when the runner clock stepped back', async () => {
    const store = newStore();
    const job = newJob();
    const list = entries(1, 5000);
    // Entries 2500..2600 were written by a clock an hour behind.
    for (const e of list) if (e.seq >= 2500 && e.seq <= 2600) e.ts -= 3_600_000;
    await store.append(job, list);
    const since = list[2999]!.ts;
    const expected = list.filter((e) => e.ts >= since).map((e) => e.seq);
    expect((await all(store, job, { since })).map((e) => e.seq)).toEqual(expected);
  });

  it('pages are bounded by entries and bytes and say when the log is done', async () => {
    const store = newStore();
    const job = newJob();
    await store.append(job, entries(1, 100, 1000));
    const first = await store.page(job, {}, { maxEntries: 30, maxBytes: 1 << 20 });
    expect([first.entries.length, first.done]).toEqual([30, false]);
    const bytes = await store.page(job, { afterSeq: 30 }, { maxEntries: 1000, maxBytes: 10_000 });
    expect(bytes.entries.length).toBeLessThan(11);
    expect(bytes.entries[0]?.seq).toBe(31);
    const rest = await store.page(job, { afterSeq: 90 }, { maxEntries: 1000, maxBytes: 1 << 20 });
    expect([rest.entries.length, rest.done]).toEqual([10, true]);
  });

  it('followers read a window at a time and can resume after a sequence number', async () => {
    const store = newStore();
    const job = newJob();
    await store.append(job, entries(1, 3000, 1000)); // about 3 MB
    const seen: number[] = [];
    let offset = 0;
    let reads = 0;
    for (let more = true; more; reads++) {
      const read = await store.readFrom(job, offset);
      seen.push(...read.entries.map((e) => e.seq));
      ({ offset, more } = read);
    }
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    const resumed = await store.readFrom(job, await store.offsetAfter(job, 2345));
    expect(resumed.entries[0]?.seq).toBe(2346);
    expect(await store.offsetAfter(job, 3000)).toBe(offset);
    expect(await store.offsetAfter(job, 0)).toBe(0);
  });

  it('followers get each entry as its stored JSON, several lines and all, with seq and ts read from it', async () => {
    const store = newStore();
    const job = newJob();
    const stored: LogEntry[] = [
      { seq: 1, ts: 1.5e12, stream: 'stdout', text: 'one\ntwo "2"\n\nλ four' },
      { seq: 2, ts: -3, stream: 'stderr', text: 'a\rb', partial: true },
    ];
    await store.append(job, stored);
    // A line stored with its fields in another order (not by this store) is read all the same.
    const odd = { text: 'odd\nline', ts: 7, stream: 'stdout', seq: 3 };
    await appendFile(join(root, `logs-${dirs}`, `${job}.jsonl`), JSON.stringify(odd) + '\n');
    const reopened = new LogStore(join(root, `logs-${dirs}`));
    const read = await reopened.readFrom(job, 0);
    expect(read.entries.map((e) => [e.seq, e.ts])).toEqual([
      [1, 1.5e12],
      [2, -3],
      [3, 7],
    ]);
    expect(read.entries.map((e) => JSON.parse(e.json.toString()) as unknown)).toEqual([...stored, odd]);
    expect(read.more).toBe(false);
  });

  it('a reopened store knows the last sequence number and goes on appending and indexing', async () => {
    const dir = join(root, `logs-${++dirs}`);
    const job = newJob();
    const first = new LogStore(dir);
    await first.append(job, entries(1, 2500));
    const second = new LogStore(dir);
    expect(await second.lastSequence(job)).toBe(2500);
    await second.append(job, entries(2501, 4000));
    expect((await all(second, job, { afterSeq: 3999 })).map((e) => e.seq)).toEqual([4000]);
    expect((await all(second, job)).map((e) => e.seq)).toEqual(Array.from({ length: 4000 }, (_, i) => i + 1));
  });

  it('an append torn by a crash is cut off at reopening, and the runner re-sends it', async () => {
    const dir = join(root, `logs-${++dirs}`);
    const job = newJob();
    await new LogStore(dir).append(job, entries(1, 10));
    await appendFile(join(dir, `${job}.jsonl`), '{"seq":11,"ts":1,"stre');
    const reopened = new LogStore(dir);
    expect(await reopened.lastSequence(job)).toBe(10);
    expect(await reopened.append(job, entries(11, 12))).toBe(12);
    const text = await readFile(join(dir, `${job}.jsonl`), 'utf8');
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as LogEntry).seq),
    ).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('a log without its index (written before indexes, or a crash between the two writes) gets one', async () => {
    const dir = join(root, `logs-${++dirs}`);
    const job = newJob();
    await new LogStore(dir).append(job, entries(1, 20_000));
    await rm(join(dir, `${job}.idx`));
    const reopened = new LogStore(dir);
    expect(await reopened.lastSequence(job)).toBe(20_000);
    const size = (await stat(join(dir, `${job}.jsonl`))).size;
    expect(await reopened.offsetForTime(job, 1_700_000_000_000 + 19_990 * 1000)).toBeGreaterThan(size * 0.9);
    expect((await all(reopened, job, { afterSeq: 19_998 })).map((e) => e.seq)).toEqual([19_999, 20_000]);
  });

  it('delete removes the log and its index', async () => {
    const store = newStore();
    const job = newJob();
    await store.append(job, entries(1, 2000));
    await store.delete(job);
    expect(await store.lastSequence(job)).toBe(0);
    expect(await all(store, job)).toEqual([]);
  });

  it('refuses a job id that is not one', async () => {
    await expect(newStore().append('../../etc', entries(1, 1))).rejects.toThrow("not a job id: '../../etc'");
  });
});
