import { describe, expect, it } from 'vitest';
import { logEntries } from '../../src/server/api/schemas.js';

describe('the log entries a runner sends', () => {
  it('keeps exactly the fields of an entry, whatever else a batch carries', () => {
    const parsed = logEntries.parse({
      entries: [
        { seq: 1, ts: 5, stream: 'stdout', text: 'a', extra: 'dropped' },
        { seq: 2, ts: 6, stream: 'stderr', text: '\ufffd', partial: true, raw: '/w==' },
        { seq: 3, ts: 7, stream: 'stdout', text: 'b', partial: false },
      ],
    });
    expect(parsed.entries).toStrictEqual([
      { seq: 1, ts: 5, stream: 'stdout', text: 'a' },
      { seq: 2, ts: 6, stream: 'stderr', text: '\ufffd', partial: true, raw: '/w==' },
      { seq: 3, ts: 7, stream: 'stdout', text: 'b' },
    ]);
  });

  it('refuses a bad entry, saying which and what an entry is', () => {
    for (const bad of [
      { seq: 0, ts: 1, stream: 'stdout', text: 'x' },
      { seq: 1.5, ts: 1, stream: 'stdout', text: 'x' },
      { seq: 1, ts: 'now', stream: 'stdout', text: 'x' },
      { seq: 1, ts: 1, stream: 'stdin', text: 'x' },
      { seq: 1, ts: 1, stream: 'stdout' },
      { seq: 1, ts: 1, stream: 'stdout', text: 'x', raw: 'not base64!' },
      null,
    ]) {
      const result = logEntries.safeParse({ entries: [{ seq: 1, ts: 1, stream: 'stdout', text: 'ok' }, bad] });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['entries', 1]);
      expect(result.error?.issues[0]?.message).toBe(
        'a log entry: seq (a positive integer), ts (ms), stream (stdout or stderr), text, and optionally partial (boolean) and raw (base64)',
      );
    }
  });
});
