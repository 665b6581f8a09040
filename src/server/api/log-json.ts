/**
 * Log entries sent to readers that take JSON (the web view, older clients): each entry as a
 * `LogLine`, its output decoded as text here. The CLI takes frames instead (log-frames.ts),
 * the output as bytes with no JSON of the text on either side.
 */
import { batchEntry } from '../../core/log-batch.js';
import type { TaggedEntry } from '../../core/log-frames.js';
import { logLine } from './log-line.js';

/** The entry's `LogLine` as JSON. */
function lineJson({ jobId, entry }: TaggedEntry): string {
  // The entry's own fields after its job's: `{"jobId":…,` then logLine's text past its opening brace.
  return `{"jobId":${JSON.stringify(jobId)},${logLine(batchEntry(entry, entry.bytes)).slice(1, -1)}`;
}

/** `head`, the entries as a JSON array of `LogLine`s, then `tail`. */
export function entriesJson(lines: readonly TaggedEntry[], head: string, tail: string): Buffer<ArrayBuffer> {
  return Buffer.from(`${head}[${lines.map(lineJson).join(',')}]${tail}`) as Buffer<ArrayBuffer>;
}
