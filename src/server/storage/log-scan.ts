/** Reading a job's log file (JSON lines) a chunk at a time, for the log store. */
import { createReadStream } from 'node:fs';
import type { LogEntry } from '../../core/records.js';

/** Entries parsed from consecutive lines, and the byte offset just past each line. */
export interface Chunk {
  entries: LogEntry[];
  ends: number[];
}

/**
 * Whole lines of `file` in [start, end), a chunk at a time: each chunk's lines parsed in one
 * JSON.parse (far cheaper than one per line), with the offset just past each. A torn tail
 * is left out.
 */
export async function* scan(file: string, start: number, end: number): AsyncGenerator<Chunk> {
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
      if (whole > 0) {
        // JSON lines hold no raw newline: joined with commas they are one JSON array.
        const text = data.toString('utf8', 0, whole - 1).replaceAll('\n', ',');
        yield { entries: JSON.parse(`[${text}]`) as LogEntry[], ends };
      }
      carry = whole < data.length ? data.subarray(whole) : undefined;
      offset += whole;
    }
  } finally {
    stream.destroy();
  }
}
