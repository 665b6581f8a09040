/**
 * A batch of log entries as bytes: what a runner sends (`POST /api/runner/jobs/:id/logs`) and
 * what its spool holds, in one format. `#`, a JSON array of the entries' fields without their
 * text (`n`: the byte count of each entry's output), a newline, the entries' output bytes one
 * after another as the job wrote them, a newline. JSON of the text (escaping every newline of
 * a many-line entry, then parsing it again) was most of the cost of shipping a chatty job's
 * output; this costs a copy.
 */
import type { LogEntry } from './records.js';

/** An entry's fields in a batch: `n` bytes of output follow; `raw` when they are not UTF-8. */
export interface BatchHead {
  seq: number;
  ts: number;
  stream: LogEntry['stream'];
  n: number;
  partial?: true;
  raw?: true;
}

/**
 * An entry with its output as bytes: what the log store keeps and readers get, with no text
 * decoded (a reader that wants text decodes it; the CLI writes the bytes as they are).
 */
export interface OutputEntry {
  seq: number;
  ts: number;
  stream: LogEntry['stream'];
  /** The job's output, exactly: UTF-8 text unless `raw`. */
  bytes: Buffer;
  partial?: true;
  raw?: true;
}

/** A batch holds at most this many entries (as the JSON body's schema allows). */
export const MAX_BATCH_ENTRIES = 100_000;

const NEWLINE = Buffer.from('\n');

/** The output an entry stands for: its raw bytes, or its text as UTF-8. */
export function outputOf(entry: LogEntry): Buffer {
  return entry.raw !== undefined ? Buffer.from(entry.raw, 'base64') : Buffer.from(entry.text);
}

/** `entry` with its output as bytes (`bytes`, when given, is that output already). */
export function toOutput(entry: LogEntry, bytes: Buffer = outputOf(entry)): OutputEntry {
  const out: OutputEntry = { seq: entry.seq, ts: entry.ts, stream: entry.stream, bytes };
  if (entry.partial) out.partial = true;
  if (entry.raw !== undefined) out.raw = true;
  return out;
}

/** The head of an entry in a batch: its fields, and the length of its output. */
export function headOf(e: OutputEntry): BatchHead {
  const head: BatchHead = { seq: e.seq, ts: e.ts, stream: e.stream, n: e.bytes.length };
  if (e.partial) head.partial = true;
  if (e.raw) head.raw = true;
  return head;
}

/** A batch of `entries`, as buffers to join or write (the output is not copied). */
export function encodeBatch(entries: readonly OutputEntry[]): Buffer[] {
  return [Buffer.from(`#${JSON.stringify(entries.map(headOf))}\n`), ...entries.map((e) => e.bytes), NEWLINE];
}

/** A batch of `entries`, `bytes[i]` the exact output of entry i (default: `outputOf`), as buffers to join or write. */
export function encodeLogBatch(entries: readonly LogEntry[], bytes?: readonly Buffer[]): Buffer[] {
  return encodeBatch(entries.map((e, i) => toOutput(e, bytes?.[i])));
}

/** The entries of a batch, from its heads and each one's output. */
export function outputEntries<H extends BatchHead>(
  heads: readonly H[],
  bytes: readonly Buffer[],
): (Omit<H, 'n'> & { bytes: Buffer })[] {
  return heads.map(({ n: _n, ...head }, i) => ({ ...head, bytes: bytes[i]! }));
}

/** The bytes of each entry of a batch's `body` (without its final newline), sharing it. */
export function splitBody(heads: readonly BatchHead[], body: Buffer): Buffer[] {
  const bytes: Buffer[] = [];
  let at = 0;
  for (const head of heads) {
    bytes.push(body.subarray(at, at + head.n));
    at += head.n;
  }
  return bytes;
}

/** A batch head line's JSON, read for a RecordReader (record-reader.ts): the heads and their output's length. */
export function readBatchHead(json: unknown): { head: BatchHead[]; bodyLength: number } | undefined {
  if (!isBatchHeads(json) || json.length > MAX_BATCH_ENTRIES) return undefined;
  return { head: json, bodyLength: bodyLength(json) - 1 };
}

/** Whether `value` is a batch's head line (parsed): every field of every head checked. */
export function isBatchHeads(value: unknown): value is BatchHead[] {
  return (
    Array.isArray(value) &&
    value.every((h: Partial<BatchHead> | null) => {
      if (typeof h !== 'object' || h === null) return false;
      return (
        Number.isSafeInteger(h.seq) &&
        h.seq! > 0 &&
        typeof h.ts === 'number' &&
        Number.isFinite(h.ts) &&
        (h.stream === 'stdout' || h.stream === 'stderr') &&
        Number.isSafeInteger(h.n) &&
        h.n! >= 0 &&
        (h.partial === undefined || h.partial === true) &&
        (h.raw === undefined || h.raw === true)
      );
    })
  );
}

/** The bytes of a batch's body (after its head line) that its heads need: their output and the final newline. */
export const bodyLength = (heads: readonly BatchHead[]) => heads.reduce((sum, h) => sum + h.n, 0) + 1;

/** The entry a head and its output bytes make (the text shows bytes that are not UTF-8 as U+FFFD). */
export function batchEntry(head: Omit<BatchHead, 'n'>, bytes: Buffer): LogEntry {
  const entry: LogEntry = { seq: head.seq, ts: head.ts, stream: head.stream, text: bytes.toString('utf8') };
  if (head.partial) entry.partial = true;
  if (head.raw) entry.raw = bytes.toString('base64');
  return entry;
}

/**
 * A whole batch (one request body): its heads and each entry's output bytes (sharing `data`),
 * or the reason it is not one.
 */
export function decodeLogBatch(data: Buffer): { heads: BatchHead[]; bytes: Buffer[] } | { error: string } {
  const nl = data.indexOf(0x0a);
  if (data[0] !== 0x23 || nl < 0) return { error: 'a log batch starts with a # line of the entries' };
  let heads: unknown;
  try {
    heads = JSON.parse(data.toString('utf8', 1, nl));
  } catch {
    return { error: 'the head line of a log batch is not valid JSON' };
  }
  if (!isBatchHeads(heads) || heads.length > MAX_BATCH_ENTRIES) {
    return {
      error: `a log batch's head line is an array of at most ${MAX_BATCH_ENTRIES} entries: seq (a positive integer), ts (ms), stream (stdout or stderr), n (bytes), and optionally partial and raw (true)`,
    };
  }
  const body = data.subarray(nl + 1);
  if (body.length !== bodyLength(heads) || body[body.length - 1] !== 0x0a) {
    return {
      error: `a log batch's output is ${Math.max(0, body.length - 1)} bytes where its entries say ${bodyLength(heads) - 1}`,
    };
  }
  return { heads, bytes: splitBody(heads, body) };
}
