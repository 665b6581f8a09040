import { describe, expect, it } from 'vitest';
import { encodeBatch, readBatchHead, splitBody, type OutputEntry } from '../../src/core/log-batch.js';
import { encodeFrame, frameLines, jobsFrame, readFrameHead, type FrameHead } from '../../src/core/log-frames.js';
import { RecordReader, type Item } from '../../src/core/record-reader.js';
import type { JobRecord } from '../../src/core/records.js';

const entry = (seq: number, bytes: string | Buffer, extra: Partial<OutputEntry> = {}): OutputEntry => ({
  seq,
  ts: 1000 + seq,
  stream: 'stdout',
  bytes: Buffer.from(bytes),
  ...extra,
});

/** Every item of `data` given `size` bytes at a time, with the offset after each. */
function readAll<H>(reader: RecordReader<H>, data: Buffer, size: number): { item: Item<H>; offset: number }[] {
  const out: { item: Item<H>; offset: number }[] = [];
  for (let at = 0; at < data.length; at += size) {
    reader.push(data.subarray(at, at + size));
    for (let item = reader.next(); item; item = reader.next()) out.push({ item, offset: reader.offset });
  }
  return out;
}

describe('RecordReader', () => {
  const first = [entry(1, 'one\ntwo "2"\n\nλ 🚀'), entry(2, Buffer.from([0xff, 0x0a, 0x00]), { raw: true })];
  const second = [entry(3, '\r 10%', { partial: true, stream: 'stderr' }), entry(4, '')];
  const data = Buffer.concat([
    Buffer.from('{"an":"older line"}\n'),
    ...encodeBatch(first),
    ...encodeBatch(second),
    Buffer.from('\n'),
  ]);

  it('reads records and the lines between them whatever the chunks, each with the offset just past it', () => {
    const expected = readAll(new RecordReader(readBatchHead, 100), data, data.length);
    expect(expected.map(({ item }) => item.kind)).toEqual(['line', 'record', 'record', 'line']);
    expect(expected.at(-1)!.offset).toBe(100 + data.length);
    const [line, one, two] = expected.map(({ item }) => item);
    expect(line).toEqual({ kind: 'line', line: Buffer.from('{"an":"older line"}') });
    for (const [item, entries] of [
      [one, first],
      [two, second],
    ] as const) {
      if (item?.kind !== 'record') throw new Error('not a record');
      expect(splitBody(item.head, item.body)).toEqual(entries.map((e) => e.bytes));
    }
    for (const size of [1, 2, 3, 7, 64])
      expect(readAll(new RecordReader(readBatchHead, 100), data, size)).toEqual(expected);
  });

  it('waits for the rest of a record cut short, and keeps it as buffered bytes', () => {
    const reader = new RecordReader(readBatchHead);
    const cut = data.length - 10;
    const items = readAll(reader, data.subarray(0, cut), cut);
    expect(items.map(({ item }) => item.kind)).toEqual(['line', 'record']);
    expect(reader.offset + reader.buffered).toBe(cut);
  });

  it('says why a record cannot be read: a head that is not JSON, not a head, or a body of another length', () => {
    const bad = (text: string | Buffer) => {
      const reader = new RecordReader(readBatchHead);
      reader.push(Buffer.from(text));
      return reader.next();
    };
    expect(bad('#[{"seq":1,\n')).toEqual({ kind: 'bad', reason: 'a record head is not valid JSON' });
    expect(bad('#[{"seq":0,"ts":1,"stream":"stdout","n":1}]\nx\n')).toEqual({
      kind: 'bad',
      reason: 'a record head is not one',
    });
    expect(bad('#[{"seq":1,"ts":1,"stream":"stdout","n":1}]\nxy')).toEqual({
      kind: 'bad',
      reason: 'a record body does not end where its head says',
    });
  });
});

describe('log frames', () => {
  it('carry each entry with its job and its output exactly, and the events around them', () => {
    const lines = [
      { jobId: 'aaaaaaaaaaaa', entry: entry(7, 'x\ny') },
      { jobId: 'bbbbbbbbbbbb', entry: entry(1, Buffer.from([0xfe]), { raw: true, stream: 'stderr' }) },
    ];
    const jobs = [{ id: 'aaaaaaaaaaaa', status: 'DONE' }] as JobRecord[];
    const data = Buffer.concat([
      ...encodeFrame({ event: 'log', id: 'aaaaaaaaaaaa:7,bbbbbbbbbbbb:1' }, lines),
      Buffer.from('\n'), // a keep-alive
      jobsFrame(JSON.stringify(jobs)),
      ...encodeFrame({ event: 'page', cursor: 'c', more: false }, []),
      ...encodeFrame({ event: 'end' }),
    ]);
    const heads: FrameHead[] = [];
    for (const { item } of readAll(new RecordReader(readFrameHead), data, 5)) {
      if (item.kind !== 'record') continue;
      heads.push(item.head);
      if (item.head.event === 'log') {
        expect(frameLines(item.head.entries, item.body)).toEqual(lines.map((l) => ({ jobId: l.jobId, ...l.entry })));
      }
    }
    expect(heads.map((h) => h.event)).toEqual(['log', 'jobs', 'page', 'end']);
    expect(heads[1]).toEqual({ event: 'jobs', jobs });
    expect(heads[2]).toEqual({ event: 'page', cursor: 'c', more: false, entries: [] });
  });

  it('a head that is no frame is refused', () => {
    for (const head of [
      { event: 'log', id: 'x', entries: [{ seq: 1, ts: 1, stream: 'stdout', n: 1 }] }, // no jobId
      { event: 'jobs' },
      { event: 'other' },
      [],
    ]) {
      expect(readFrameHead(head)).toBeUndefined();
    }
  });
});
