/**
 * The log entries a runner sends come by the hundred thousand: each is checked by one
 * hand-written predicate inside zod (a zod object per entry costs more than the rest of
 * the ingest path), and copied to exactly its known fields, so nothing else is stored.
 */
import { z } from 'zod';
import type { LogEntry } from '../../core/records.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isLogEntry(value: unknown): value is LogEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.seq === 'number' &&
    Number.isSafeInteger(e.seq) &&
    e.seq > 0 &&
    typeof e.ts === 'number' &&
    Number.isFinite(e.ts) &&
    (e.stream === 'stdout' || e.stream === 'stderr') &&
    typeof e.text === 'string' &&
    (e.partial === undefined || typeof e.partial === 'boolean') &&
    (e.raw === undefined || (typeof e.raw === 'string' && e.raw.length <= 1 << 20 && BASE64.test(e.raw)))
  );
}

/** Only the fields a log entry has, in their order: what the log store writes. */
function exactly(e: LogEntry): LogEntry {
  const out: LogEntry = { seq: e.seq, ts: e.ts, stream: e.stream, text: e.text };
  if (e.partial) out.partial = true;
  if (e.raw !== undefined) out.raw = e.raw;
  return out;
}

export const logEntry = z
  .custom<LogEntry>(isLogEntry, {
    message:
      'a log entry: seq (a positive integer), ts (ms), stream (stdout or stderr), text, and optionally partial (boolean) and raw (base64)',
  })
  .transform(exactly);
