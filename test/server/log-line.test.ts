import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/core/records.js';
import { logLine } from '../../src/server/api/log-line.js';

describe('logLine', () => {
  it('writes exactly what JSON.stringify writes for every kind of entry', () => {
    const entries: LogEntry[] = [
      { seq: 1, ts: 1_700_000_000_123, stream: 'stdout', text: 'plain' },
      { seq: 2, ts: 0, stream: 'stderr', text: 'quotes " and \\ and \u0000\u001f\t control, λ 🚀 \ud800 lone' },
      { seq: 3, ts: 1.5, stream: 'stdout', text: 'progress 42%\r', partial: true },
      { seq: 4, ts: -0, stream: 'stdout', text: '\ufffd', raw: '/w==' },
      { seq: Number.MAX_SAFE_INTEGER, ts: 1e21, stream: 'stderr', text: '' },
    ];
    for (const e of entries) expect(logLine(e)).toBe(JSON.stringify(e) + '\n');
  });
});
