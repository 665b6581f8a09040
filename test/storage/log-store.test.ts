import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBatch, toOutput, type OutputEntry } from '../../src/core/log-batch.js';
import type { LogEntry } from '../../src/core/records.js';
import { LogStore } from '../../src/server/storage/log-store.js';

const root = await mkdtemp(join(tmpdir(), 'dstack-logs-'));
afterAll(() => rm(root, { recursive: true, force: true }));
let jobs = 0;
const newJob = () => (++jobs).toString(16).padStart(12, '0');
let dirs = 0;
const newStore = () => new LogStore(join(root, `logs-${++dirs}`));

/** Entries `from`..`to`, a second apart from t0, with a line of `width` characters. */
function entries(from: number, to: number, width = 20, t0 = 1_700_000_000_000): OutputEntry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    seq: from + i,
    ts: t0 + (from + i) * 1000,
    stream: 'stdout' as const,
    bytes: Buffer.from(`line ${from + i} `.padEnd(width, 'x')),
  }));
}

async function all(store: LogStore, job: string, query = {}): Promise<OutputEntry[]> {
  const out: OutputEntry[] = [];
  for await (const e of store.entries(job, query)) out.push(e);
  return out;
}

describe('LogStore', () => {
  it('stores each entry once in sequence order: a re-sent batch doubles nothing, a gap inside a batch is refused', async () => {
    const store = newStore();
    const job = newJob();
    expect(await store.append(job, entries(1, 3))).toBe(3);
    expect(await store.append(job, entries(2, 5))).toBe(5);
    const holed = [...entries(6, 7), ...entries(9, 9)];
    await expect(store.append(job, holed)).rejects.toThrow(`log entry 9 of job ${job} leaves a gap after 7`);
    expect((await all(store, job)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('goes on past entries this disk never had (a new data folder), saying so where they were', async () => {
    const store = newStore();
    const job = newJob();
    // The runner's first batch to this disk starts at 10: 1-9 went to the previous data folder.
    expect(await store.append(job, entries(10, 12))).toBe(12);
    const log = await all(store, job);
    expect(log.map((e) => e.seq)).toEqual([9, 10, 11, 12]);
    expect(log[0]).toEqual({
      seq: 9,
      ts: entries(10, 10)[0]!.ts,
      stream: 'stderr',
      bytes: Buffer.from(
        "[dstack] log entries 1–9 were kept by the server's previous data folder (or lost with its disk) and are not here",
      ),
    });
    // A later hole of one entry, and a re-send of what is there: each stored once.
    expect(
      await store.append(
        job,
        entries(11, 15).filter((e) => e.seq !== 13),
      ),
    ).toBe(15);
    expect(await store.append(job, entries(14, 15))).toBe(15);
    const reopened = await all(new LogStore(join(root, `logs-${dirs}`)), job);
    expect(reopened.map((e) => `${e.seq} ${e.bytes.toString()}`).slice(4)).toEqual([
      "13 [dstack] log entry 13 was kept by the server's previous data folder (or lost with its disk) and is not here",
      `14 ${entries(14, 14)[0]!.bytes.toString()}`,
      `15 ${entries(15, 15)[0]!.bytes.toString()}`,
    ]);
  });

  it('keeps partial and raw fields as given, and the output byte for byte', async () => {
    const store = newStore();
    const job = newJob();
    const given: OutputEntry[] = [
      { seq: 1, ts: 1, stream: 'stdout', bytes: Buffer.from('\r 10%'), partial: true },
      { seq: 2, ts: 2, stream: 'stderr', bytes: Buffer.from([0xff, 0x0a, 0x00]), raw: true },
      { seq: 3, ts: 3, stream: 'stdout', bytes: Buffer.from('one\ntwo "2"\n\nλ four') },
      { seq: 4, ts: 4, stream: 'stdout', bytes: Buffer.alloc(0) },
    ];
    await store.append(job, given);
    expect(await all(store, job)).toEqual(given);
    expect(await all(new LogStore(join(root, `logs-${dirs}`)), job)).toEqual(given);
  });

  it('--since and after-seq reads start near their entry, not at the top of a long log', async () => {
    const store = newStore();
    const job = newJob();
    for (let i = 0; i < 50; i++) await store.append(job, entries(i * 1000 + 1, (i + 1) * 1000));
    const size = (await stat(join(root, `logs-${dirs}`, `${job}.log`))).size;
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
    // Resuming starts at the append that holds the next entry: no entry after the cursor is skipped.
    const resumed = await store.readFrom(job, await store.offsetAfter(job, 2345));
    expect(resumed.entries[0]!.seq).toBeLessThanOrEqual(2346);
    expect(resumed.entries[0]!.seq).toBeGreaterThan(2346 - 300); // within one record (256 KiB)
    expect(resumed.entries.find((e) => e.seq > 2345)?.seq).toBe(2346);
    expect(await store.offsetAfter(job, 3000)).toBe(offset);
    expect(await store.offsetAfter(job, 0)).toBe(0);
  });

  it('reads a log of JSON lines (as versions before batches wrote it) and goes on appending batches to it', async () => {
    const dir = join(root, `logs-${++dirs}`);
    const job = newJob();
    const older: LogEntry[] = [
      { seq: 1, ts: 1.5e12, stream: 'stdout', text: 'one\ntwo "2"\n\nλ four' },
      { seq: 2, ts: -3, stream: 'stderr', text: 'a\rb', partial: true },
      { seq: 3, ts: 5, stream: 'stderr', text: '\ufffd', raw: Buffer.from([0xff]).toString('base64') },
    ];
    // A line with its fields in another order (not by this store) is read all the same.
    const lines = [
      ...older.map((e) => JSON.stringify(e)),
      JSON.stringify({ text: 'odd', ts: 7, stream: 'stdout', seq: 4 }),
    ];
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${job}.jsonl`), lines.join('\n') + '\n');
    const store = new LogStore(dir);
    expect(await store.lastSequence(job)).toBe(4);
    expect(await store.append(job, entries(5, 6))).toBe(6);
    const read = await store.readFrom(job, 0);
    expect(read.entries).toEqual([
      ...older.map((e) => toOutput(e)),
      { seq: 4, ts: 7, stream: 'stdout', bytes: Buffer.from('odd') },
      ...entries(5, 6),
    ]);
    expect(read.more).toBe(false);
    expect(await readdir(dir)).toEqual([`${job}.log`]); // renamed, not copied
  });

  it("delete removes a log an older version wrote (JOB.jsonl) that was never read since, and other jobs' logs stay", async () => {
    const dir = join(root, `logs-${++dirs}`);
    const [pruned, kept] = [newJob(), newJob()];
    await mkdir(dir, { recursive: true });
    const line = JSON.stringify({ text: 'epoch 1', ts: 7, stream: 'stdout', seq: 1 }) + '\n';
    await writeFile(join(dir, `${pruned}.jsonl`), line);
    await writeFile(join(dir, `${kept}.jsonl`), line);
    const store = new LogStore(dir);
    await store.delete(pruned);
    expect(await readdir(dir)).toEqual([`${kept}.jsonl`]);
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
    const [whole, ...rest] = encodeBatch(entries(11, 12, 300));
    const record = Buffer.concat([whole!, ...rest]);
    // Torn in the head line, and torn in the output.
    for (const torn of [record.subarray(0, 20), record.subarray(0, record.length - 100)]) {
      const dir = join(root, `logs-${++dirs}`);
      const job = newJob();
      await new LogStore(dir).append(job, entries(1, 10));
      const size = (await stat(join(dir, `${job}.log`))).size;
      await appendFile(join(dir, `${job}.log`), torn);
      const reopened = new LogStore(dir);
      expect(await reopened.lastSequence(job)).toBe(10);
      expect((await stat(join(dir, `${job}.log`))).size).toBe(size);
      expect(await reopened.append(job, entries(11, 12))).toBe(12);
      expect((await all(new LogStore(dir), job)).map((e) => e.seq)).toEqual(
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
    }
  });

  it('an index append torn by a crash (part of a point) is cut at reopening, and points after it read right', async () => {
    const dir = join(root, `logs-${++dirs}`);
    const job = newJob();
    await new LogStore(dir).append(job, entries(1, 20_000));
    await appendFile(join(dir, `${job}.idx`), Buffer.alloc(10, 0xff));
    const reopened = new LogStore(dir);
    await reopened.append(job, entries(20_001, 40_000));
    expect((await stat(join(dir, `${job}.idx`))).size % 24).toBe(0);
    expect((await all(new LogStore(dir), job, { afterSeq: 39_998 })).map((e) => e.seq)).toEqual([39_999, 40_000]);
    expect((await all(new LogStore(dir), job, { afterSeq: 19_999 }))[0]!.seq).toBe(20_000);
  });

  it('a record damaged before the end of the log is an error that names the file and byte, not a cut', async () => {
    const dir = join(root, `logs-${++dirs}`);
    const job = newJob();
    await new LogStore(dir).append(job, entries(1, 10));
    const file = join(dir, `${job}.log`);
    const data = await readFile(file);
    await writeFile(file, Buffer.concat([data.subarray(0, data.length - 1), Buffer.from('x')])); // the record's final newline
    await appendFile(file, Buffer.concat(encodeBatch(entries(11, 11))));
    await expect(new LogStore(dir).lastSequence(job)).rejects.toThrow(
      `log file ${file} is damaged at byte 0: a record body does not end where its head says`,
    );
    expect((await stat(file)).size).toBe(data.length + Buffer.concat(encodeBatch(entries(11, 11))).length);
  });

  it('a log cut outside dstack while open is an error that says so, then read as it is now', async () => {
    const dir = join(root, `logs-${++dirs}`);
    const job = newJob();
    const store = new LogStore(dir);
    await store.append(job, entries(1, 10));
    const file = join(dir, `${job}.log`);
    const size = (await stat(file)).size;
    await writeFile(file, ''); // by hand, under the open store
    await expect(store.page(job, {}, { maxEntries: 100, maxBytes: 1 << 20 })).rejects.toThrow(
      `log file ${file} ends at byte 0, before the ${size} bytes written to it: cut outside dstack`,
    );
    expect(await store.page(job, {}, { maxEntries: 100, maxBytes: 1 << 20 })).toEqual({ entries: [], done: true });
    expect(await store.append(job, entries(1, 2))).toBe(2); // the log starts again
  });

  it('a log without its index (written before indexes, or a crash between the two writes) gets one', async () => {
    const dir = join(root, `logs-${++dirs}`);
    const job = newJob();
    await new LogStore(dir).append(job, entries(1, 20_000));
    await rm(join(dir, `${job}.idx`));
    const reopened = new LogStore(dir);
    expect(await reopened.lastSequence(job)).toBe(20_000);
    const size = (await stat(join(dir, `${job}.log`))).size;
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
