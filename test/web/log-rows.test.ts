/**
 * Log entries become one row per line in the web log view: an entry of several lines is
 * split, and a line sent in pieces (partial entries) is joined, as the terminal showed it.
 */
import { describe, expect, it } from 'vitest';
import type { LogLine } from '../../src/core/api.js';
import { cutSegments, LogRows, logRows, MAX_KEPT, type LogRow } from '../../web/src/lib/log-rows.js';

const ESC = '\u001b';
const JOB = 'a1b2c3d4e5f6';
const entry = (seq: number, text: string, extra: Partial<LogLine> = {}): LogLine => ({
  jobId: JOB,
  seq,
  ts: 1000 + seq,
  stream: 'stdout',
  text,
  ...extra,
});
const partial = (seq: number, text: string, extra: Partial<LogLine> = {}) =>
  entry(seq, text, { partial: true, ...extra });
/** What each row shows, and its stream. */
const shown = (rows: readonly LogRow[]) => rows.map((r) => [r.segments.map((s) => s.text).join(''), r.line.stream]);

describe('logRows splits entries', () => {
  it('splits an entry into one row per line, each with its own key, colours and search text', () => {
    const rows = logRows([entry(7, `epoch 1\n\n${ESC}[32mCheckpoint${ESC}[0m saved`)]);
    expect(rows.map((r) => [r.key, r.line.text, r.line.seq, r.search])).toEqual([
      [`${JOB}:7:0`, 'epoch 1', 7, 'epoch 1'],
      [`${JOB}:7:1`, '', 7, ''],
      [`${JOB}:7:2`, `${ESC}[32mCheckpoint${ESC}[0m saved`, 7, 'checkpoint saved'],
    ]);
    expect(rows[2]!.segments).toEqual([
      { text: 'Checkpoint', style: { fg: expect.any(String) } },
      { text: ' saved', style: {} },
    ]);
  });

  it('keeps a one-line entry as it is, and marks only the last line of a partial entry partial', () => {
    const one = partial(1, 'loading', { stream: 'stderr' });
    expect(logRows([one]).map((r) => r.line)).toEqual([one]);
    const rows = logRows([partial(2, 'a\nb')]);
    expect(rows.map((r) => [r.line.text, r.line.partial])).toEqual([
      ['a', undefined],
      ['b', true],
    ]);
  });
});

describe('logRows joins a line sent in pieces', () => {
  it('joins a partial entry with the next one into one row, keyed and timed by its first piece', () => {
    const rows = logRows([partial(1, 'Downloading '), entry(2, `${ESC}[32mdone${ESC}[0m`)]);
    expect(rows.map((r) => [r.key, r.line])).toEqual([
      [`${JOB}:1:0`, { jobId: JOB, seq: 1, ts: 1001, stream: 'stdout', text: `Downloading ${ESC}[32mdone${ESC}[0m` }],
    ]);
    expect(rows[0]!.search).toBe('downloading done');
    expect(rows[0]!.segments[1]).toEqual({ text: 'done', style: { fg: expect.any(String) } });
  });

  it('ends a \\r progress bar sent in three pieces on its last state', () => {
    const rows = logRows([partial(1, '\r0%'), partial(2, '\r40%'), partial(3, '\r90%'), entry(4, '\r100%\ndone')]);
    expect(shown(rows)).toEqual([
      ['100%', 'stdout'],
      ['done', 'stdout'],
    ]);
    expect(rows.map((r) => r.key)).toEqual([`${JOB}:1:0`, `${JOB}:4:1`]);
  });

  it('draws a style and an escape sequence that run across pieces as if they came in one', () => {
    const rows = logRows([partial(1, `${ESC}[31mlong text`), partial(2, `\r${ESC}[`), entry(3, 'Kred')]);
    expect(rows[0]!.segments).toEqual([{ text: 'red', style: { fg: '#ef6b73' } }]);
  });

  it('updates the row of an unfinished line in place as its pieces arrive, and no other row', () => {
    const log = new LogRows();
    log.add(entry(1, 'before'));
    log.add(partial(2, 'step 1/3'));
    const [before, first] = log.rows;
    expect(shown(log.rows)).toEqual([
      ['before', 'stdout'],
      ['step 1/3', 'stdout'],
    ]);
    expect(first!.line.partial).toBe(true);
    log.add(partial(3, '\rstep 2/3'));
    expect(log.rows[0]).toBe(before);
    expect(log.rows[1]).not.toBe(first);
    expect([log.rows[1]!.key, log.rows[1]!.search, log.rows[1]!.line.partial]).toEqual([first!.key, 'step 2/3', true]);
    log.add(entry(4, '\rstep 3/3'));
    expect(shown(log.rows)).toEqual([
      ['before', 'stdout'],
      ['step 3/3', 'stdout'],
    ]);
    expect(log.rows[1]!.line.partial).toBeUndefined();
    log.add(entry(5, 'after'));
    expect(shown(log.rows).map(([text]) => text)).toEqual(['before', 'step 3/3', 'after']);
  });

  it('joins the first line of an entry of several lines, and goes on with its partial last line', () => {
    const rows = logRows([partial(1, 'a'), partial(2, 'b\nc\nd'), entry(3, 'e\nf')]);
    expect(rows.map((r) => [r.key, r.line.text])).toEqual([
      [`${JOB}:1:0`, 'ab'],
      [`${JOB}:2:1`, 'c'],
      [`${JOB}:2:2`, 'de'],
      [`${JOB}:3:1`, 'f'],
    ]);
  });

  it('joins per stream: a stderr line between the pieces of a stdout line follows the row that line began', () => {
    const rows = logRows([
      partial(1, 'epoch 1: '),
      entry(2, 'warning: slow', { stream: 'stderr' }),
      partial(3, 'loss '),
      partial(4, '\r50%', { stream: 'stderr' }),
      entry(5, '0.5'),
      entry(6, '\r100%', { stream: 'stderr' }),
    ]);
    expect(shown(rows)).toEqual([
      ['epoch 1: loss 0.5', 'stdout'],
      ['warning: slow', 'stderr'],
      ['100%', 'stderr'],
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(3);
  });

  it('joins per job: pieces of two jobs that share a log each go on in their own row', () => {
    const other = { jobId: 'ffffffffffff' };
    const rows = logRows([
      partial(1, 'a: 1'),
      partial(1, 'b: 1', other),
      partial(2, '\ra: 2', other),
      entry(2, '\ra: 2'),
      entry(3, '\rb: 2', other),
    ]);
    expect(rows.map((r) => [r.key, r.search])).toEqual([
      [`${JOB}:1:0`, 'a: 2'],
      ['ffffffffffff:1:0', 'b: 2'],
    ]);
  });

  it('costs each piece its own length, not the whole line again: a progress bar of hours stays cheap', () => {
    const log = new LogRows();
    const started = performance.now();
    for (let i = 1; i <= 20_000; i++) log.add(partial(i, `\rstep ${i}/20000 ${'#'.repeat(60)}`));
    // Re-drawn from all it was sent, this would take minutes (1.3e10 characters).
    expect(performance.now() - started).toBeLessThan(2000);
    expect(log.rows.map((r) => r.search)).toEqual([`step 20000/20000 ${'#'.repeat(60)}`]);
  });

  it('drops the exact bytes of a piece once it is part of a joined line', () => {
    const rows = logRows([partial(1, 'x\ufffd', { raw: Buffer.from([0x78, 0xff]).toString('base64') }), entry(2, 'y')]);
    expect(rows.map((r) => r.line)).toEqual([{ jobId: JOB, seq: 1, ts: 1001, stream: 'stdout', text: 'x\ufffdy' }]);
  });

  it('keeps a 200 KB line sent in 64 KiB pieces as one row, however wide', () => {
    const piece = 'x'.repeat(64 * 1024);
    const rows = logRows([
      partial(1, piece),
      partial(2, piece),
      partial(3, piece),
      entry(4, 'y'.repeat(4000)),
      entry(5, 'next'),
    ]);
    expect(rows.map((r) => [r.key, r.search.length, r.dropped, r.line.partial])).toEqual([
      [`${JOB}:1:0`, 3 * 64 * 1024 + 4000, 0, undefined],
      [`${JOB}:5:0`, 4, 0, undefined],
    ]);
  });

  it(`keeps ${MAX_KEPT} characters of a longer line and counts the rest, drawing nothing more for them`, () => {
    const piece = 'z'.repeat(64 * 1024);
    const log = new LogRows();
    const started = performance.now();
    for (let seq = 1; seq <= 1600; seq++) log.add(partial(seq, piece)); // a 100 MB line
    log.add(entry(1601, 'end'));
    // Drawn again from all it was sent at each piece, this would take minutes and gigabytes.
    expect(performance.now() - started).toBeLessThan(3000);
    const [row] = log.rows;
    expect(log.rows).toHaveLength(1);
    expect(row!.search.length).toBe(MAX_KEPT);
    expect(row!.dropped).toBe(1600 * 64 * 1024 + 3 - MAX_KEPT);
    expect(row!.line.partial).toBeUndefined();
  });

  it(`cuts a line that came whole at ${MAX_KEPT} characters too, keeping its colours`, () => {
    const rows = logRows([entry(1, `${ESC}[32m${'g'.repeat(MAX_KEPT + 10)}`)]);
    expect(rows[0]!.segments).toEqual([{ text: 'g'.repeat(MAX_KEPT), style: { fg: expect.any(String) } }]);
    expect(rows[0]!.dropped).toBe(10);
  });
});

describe('cutSegments', () => {
  it('keeps the first characters of styled segments, the whole ones unchanged', () => {
    const red = { fg: 'red' };
    const segments = [
      { text: 'abc', style: {} },
      { text: 'defg', style: red },
      { text: 'h', style: {} },
    ];
    expect(cutSegments(segments, 5)).toEqual([segments[0], { text: 'de', style: red }]);
    expect(cutSegments(segments, 8)).toEqual(segments);
    expect(cutSegments(segments, 0)).toEqual([]);
  });
});
