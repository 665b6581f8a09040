/**
 * Reading a job's log file a chunk at a time, for the log store. The file is a sequence of
 * log batches (core/log-batch.ts: the entries' fields as JSON, then their output as bytes),
 * one per append; logs written before batches hold one JSON line per entry, and are read
 * alike (log-line.ts).
 */
import { readBatchHead, splitBody, outputEntries, toOutput, type OutputEntry } from '../../core/log-batch.js';
import { RecordReader } from '../../core/record-reader.js';
import type { LogEntry } from '../../core/records.js';

/** The entries of one append, and where it lies in the file. */
export interface LogRecord {
  entries: OutputEntry[];
  start: number;
  end: number;
}

/** Reads into `buffer` from byte `position` of the file; the bytes read. */
export type ReadAt = (buffer: Buffer, position: number) => number;

/** Bytes read at a time: a few records (each up to an index interval, 256 KiB, and an entry). */
const CHUNK = 1 << 20;

/**
 * The whole records in [start, end) of the file `read` reads (`file` names it in errors),
 * those of each read together. A record torn by a crash (the last one, cut short) ends the
 * scan; a damaged record before the end is an error.
 */
export async function* records(file: string, read: ReadAt, start: number, end: number): AsyncGenerator<LogRecord[]> {
  const reader = new RecordReader(readBatchHead, start);
  for (let position = start; position < end;) {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, end - position));
    const length = read(buffer, position);
    if (length === 0) {
      throw new Error(
        `log file ${file} ends at byte ${position}, before the ${end} bytes written to it: cut outside dstack`,
      );
    }
    position += length;
    reader.push(buffer.subarray(0, length));
    const found: LogRecord[] = [];
    for (let at = reader.offset, item = reader.next(); item; at = reader.offset, item = reader.next()) {
      if (item.kind === 'bad') throw new Error(`log file ${file} is damaged at byte ${at}: ${item.reason}`);
      const entries =
        item.kind === 'record' ? outputEntries(item.head, splitBody(item.head, item.body)) : [jsonLine(item.line)];
      found.push({ entries, start: at, end: reader.offset });
    }
    if (found.length > 0) yield found;
  }
}

/** An entry of a log written before batches: one JSON line. */
function jsonLine(line: Buffer): OutputEntry {
  return toOutput(JSON.parse(line.toString('utf8')) as LogEntry);
}
