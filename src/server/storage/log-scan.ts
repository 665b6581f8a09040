/** Reading a job's log file (JSON lines) a chunk at a time, for the log store. */
import { createReadStream } from 'node:fs';
import type { LogEntry } from '../../core/records.js';

/** Entries parsed from consecutive lines, and the byte offset just past each line. */
export interface Chunk {
  entries: LogEntry[];
  ends: number[];
}

/**
 * A stored entry as the bytes of its JSON line (no newline), with the two fields readers
 * filter, order and resume by: a follower forwards the bytes without parsing the text.
 */
export interface RawEntry {
  seq: number;
  ts: number;
  json: Buffer;
}

/** Whole lines of `file` in [start, end): `data` holds them in its first `whole` bytes; `ends` are absolute. */
async function* wholeLines(
  file: string,
  start: number,
  end: number,
): AsyncGenerator<{ data: Buffer; whole: number; ends: number[] }> {
  if (start >= end) return;
  const stream = createReadStream(file, { start, end: end - 1, highWaterMark: 256 << 10 });
  let carry: Buffer | undefined;
  let offset = start; // offset of carry's first byte
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const ends: number[] = [];
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, nl + 1)) ends.push(offset + nl + 1);
      const whole = ends.length > 0 ? ends[ends.length - 1]! - offset : 0;
      if (whole > 0) yield { data, whole, ends };
      carry = whole < data.length ? data.subarray(whole) : undefined;
      offset += whole;
    }
  } finally {
    stream.destroy();
  }
}

/**
 * Whole lines of `file` in [start, end), a chunk at a time: each chunk's lines parsed in one
 * JSON.parse (far cheaper than one per line), with the offset just past each. A torn tail
 * is left out.
 */
export async function* scan(file: string, start: number, end: number): AsyncGenerator<Chunk> {
  for await (const { data, whole, ends } of wholeLines(file, start, end)) {
    // JSON lines hold no raw newline: joined with commas they are one JSON array.
    const text = data.toString('utf8', 0, whole - 1).replaceAll('\n', ',');
    yield { entries: JSON.parse(`[${text}]`) as LogEntry[], ends };
  }
}

/** As `scan`, but each entry as its JSON bytes (sharing the read's buffer), with only `seq` and `ts` read. */
export async function* scanRaw(
  file: string,
  start: number,
  end: number,
): AsyncGenerator<{ entries: RawEntry[]; end: number }> {
  for await (const { data, whole, ends } of wholeLines(file, start, end)) {
    const base = ends[ends.length - 1]! - whole; // the file offset of data[0]
    const entries: RawEntry[] = [];
    let from = 0;
    for (const at of ends) {
      const json = data.subarray(from, at - base - 1);
      entries.push({ ...entryHead(json), json });
      from = at - base;
    }
    yield { entries, end: ends[ends.length - 1]! };
  }
}

const SEQ = Buffer.from('{"seq":');
const TS = Buffer.from(',"ts":');

/** `seq` and `ts` of a stored line: read from its start, where the log store writes them (log-line.ts). */
export function entryHead(json: Buffer): { seq: number; ts: number } {
  if (json.subarray(0, SEQ.length).equals(SEQ)) {
    const tsAt = json.indexOf(TS, SEQ.length);
    const tsEnd = tsAt < 0 ? -1 : json.indexOf(0x2c, tsAt + TS.length); // ','
    if (tsEnd > 0) {
      const seq = Number(json.toString('latin1', SEQ.length, tsAt));
      const ts = Number(json.toString('latin1', tsAt + TS.length, tsEnd));
      if (Number.isSafeInteger(seq) && Number.isFinite(ts)) return { seq, ts };
    }
  }
  const e = JSON.parse(json.toString('utf8')) as LogEntry; // a line in another field order
  return { seq: e.seq, ts: e.ts };
}
