import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutputEntry } from '../../src/core/log-batch.js';
import type { LogRecord } from '../../src/server/storage/log-scan.js';
import { LogStore } from '../../src/server/storage/log-store.js';
import { RecentAppends } from '../../src/server/storage/recent-appends.js';

const record = (start: number, end: number, seq = start): LogRecord => ({
  entries: [{ seq, ts: seq, stream: 'stdout', bytes: Buffer.alloc(end - start) }],
  start,
  end,
});

describe('RecentAppends', () => {
  it('keeps consecutive appends per log, found only from the start of one', () => {
    const recent = new RecentAppends(1000);
    recent.add('a', [record(0, 100), record(100, 250)]);
    recent.add('a', [record(250, 300)]);
    expect(recent.from('a', 100)?.map((r) => r.start)).toEqual([100, 250]);
    expect(recent.from('a', 120)).toBeUndefined(); // inside an append: read the file
    expect(recent.from('b', 0)).toBeUndefined();
    recent.add('a', [record(400, 450)]); // not after the last one (a reopened log): the older ones go
    expect(recent.from('a', 0)).toBeUndefined();
    expect(recent.from('a', 400)?.map((r) => r.start)).toEqual([400]);
  });

  it('keeps at most its bound of bytes across logs, the oldest appends going first', () => {
    const recent = new RecentAppends(300);
    recent.add('a', [record(0, 100)]);
    recent.add('b', [record(0, 100)]);
    recent.add('a', [record(100, 200)]);
    recent.add('b', [record(100, 250)]); // 400 bytes: a's first and b's first go
    expect(recent.from('a', 0)).toBeUndefined();
    expect(recent.from('b', 0)).toBeUndefined();
    expect(recent.from('a', 100)?.map((r) => r.end)).toEqual([200]);
    expect(recent.from('b', 100)?.map((r) => r.end)).toEqual([250]);
    recent.drop('b');
    expect(recent.from('b', 100)).toBeUndefined();
    recent.add('c', [record(0, 150)]); // b's bytes were given back: a's append stays
    expect(recent.from('a', 100)).toBeDefined();
  });
});

describe('LogStore followers', () => {
  it('get the same entries from the appends kept in memory as from the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-recent-'));
    afterAll(() => rm(dir, { recursive: true, force: true }));
    const job = 'abcdefabcdef';
    const entries: OutputEntry[] = Array.from({ length: 3000 }, (_, i) => ({
      seq: i + 1,
      ts: 1000 + i,
      stream: i % 3 === 0 ? 'stderr' : 'stdout',
      bytes: Buffer.from(`line ${i + 1} `.padEnd(300, 'x')),
      ...(i % 7 === 0 ? { partial: true as const } : {}),
    }));
    const store = new LogStore(dir);
    for (let i = 0; i < 3000; i += 500) await store.append(job, entries.slice(i, i + 500));
    const follow = async (s: LogStore) => {
      const got: { seqs: number[]; offset: number }[] = [];
      for (let offset = 0, more = true; more;) {
        const read = await s.readFrom(job, offset);
        got.push({ seqs: read.entries.map((e) => e.seq), offset: read.offset });
        ({ offset, more } = read);
      }
      return got;
    };
    const fromMemory = await follow(store);
    expect(fromMemory).toEqual(await follow(new LogStore(dir))); // a new store has only the file
    expect(fromMemory.flatMap((r) => r.seqs)).toEqual(entries.map((e) => e.seq));
    expect((await store.readFrom(job, 0)).entries[1]).toEqual(entries[1]);
  });
});
