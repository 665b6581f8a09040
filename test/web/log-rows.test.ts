/** Log entries of several lines become one row per line in the web log view. */
import { describe, expect, it } from 'vitest';
import type { LogLine } from '../../src/core/api.js';
import { entryRows } from '../../web/src/lib/log-rows.js';

const ESC = '\u001b';
const entry = (seq: number, text: string, extra: Partial<LogLine> = {}): LogLine => ({
  jobId: 'a1b2c3d4e5f6',
  seq,
  ts: 1000 + seq,
  stream: 'stdout',
  text,
  ...extra,
});

describe('entryRows', () => {
  it('splits an entry into one row per line, each with its own key, colours and search text', () => {
    const rows = entryRows(entry(7, `epoch 1\n\n${ESC}[32mCheckpoint${ESC}[0m saved`));
    expect(rows.map((r) => [r.key, r.line.text, r.line.seq, r.search])).toEqual([
      ['a1b2c3d4e5f6:7:0', 'epoch 1', 7, 'epoch 1'],
      ['a1b2c3d4e5f6:7:1', '', 7, ''],
      ['a1b2c3d4e5f6:7:2', `${ESC}[32mCheckpoint${ESC}[0m saved`, 7, 'checkpoint saved'],
    ]);
    expect(rows[2]!.segments).toEqual([
      { text: 'Checkpoint', style: { fg: expect.any(String) } },
      { text: ' saved', style: {} },
    ]);
  });

  it('keeps a one-line entry as it is, and marks only the last line of a partial entry partial', () => {
    const one = entry(1, 'loading', { partial: true, stream: 'stderr' });
    expect(entryRows(one).map((r) => r.line)).toEqual([one]);
    const rows = entryRows(entry(2, 'a\nb', { partial: true }));
    expect(rows.map((r) => [r.line.text, r.line.partial])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });
});
