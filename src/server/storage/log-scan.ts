/**
 * Reading a job's log file a chunk at a time, for the log store. The file is a sequence of
 * log batches (core/log-batch.ts: the entries' fields as JSON, then their output as bytes),
 * one per append; logs written before batches hold one JSON line per entry, and are read
 * alike (log-line.ts).
 */
import { createReadStream } from 'node:fs';
import { readBatchHead, splitBody, outputEntries, toOutput, type OutputEntry } from '../../core/log-batch.js';
import { RecordReader } from '../../core/record-reader.js';
import type { LogEntry } from '../../core/records.js';

/** The entries of one append, and where it lies in the file. */
export interface LogRecord {
  entries: OutputEntry[];
  start: number;
  end: number;
}

/**
 * The whole records of `file` in [start, end), those of each read together. A record torn by
 * a crash (the last one, cut short) ends the scan; a damaged record before the end is an error.
 */
export async function* records(file: string, start: number, end: number): AsyncGenerator<LogRecord[]> {
  if (start >= end) return;
  const reader = new RecordReader(readBatchHead, start);
  const stream = createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      reader.push(chunk);
      const read: LogRecord[] = [];
      for (let at = reader.offset, item = reader.next(); item; at = reader.offset, item = reader.next()) {
        if (item.kind === 'bad') throw new Error(`log file ${file} is damaged at byte ${at}: ${item.reason}`);
        const entries =
          item.kind === 'record' ? outputEntries(item.head, splitBody(item.head, item.body)) : [jsonLine(item.line)];
        read.push({ entries, start: at, end: reader.offset });
      }
      if (read.length > 0) yield read;
    }
  } finally {
    stream.destroy();
  }
}

/** An entry of a log written before batches: one JSON line. */
function jsonLine(line: Buffer): OutputEntry {
  return toOutput(JSON.parse(line.toString('utf8')) as LogEntry);
}
