/**
 * Log entries sent to readers as JSON built from the bytes the log store holds, each given
 * its `jobId`: the text (most of the bytes) is neither parsed nor serialised again on the
 * server, which for a busy job's log was most of the cost of reading it.
 */
import type { RawEntry } from '../storage/log-scan.js';

/** An entry to send, with the start of its JSON as a `LogLine` (its job's id). */
export interface TaggedEntry {
  jobId: string;
  prefix: Buffer;
  entry: RawEntry;
}

/** `{"jobId":"…",`: what goes before an entry's fields. */
export const jobPrefix = (jobId: string) => Buffer.from(`{"jobId":${JSON.stringify(jobId)},`);

const COMMA = Buffer.from(',');

/** `head`, the entries as a JSON array of `LogLine`s, then `tail`. */
export function entriesJson(lines: readonly TaggedEntry[], head: string, tail: string): Buffer<ArrayBuffer> {
  const parts: Buffer[] = [Buffer.from(head + '[')];
  lines.forEach(({ prefix, entry }, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(prefix, entry.json.subarray(1)); // the entry's fields, after its opening brace
  });
  parts.push(Buffer.from(']' + tail));
  return Buffer.concat(parts) as Buffer<ArrayBuffer>; // a fresh buffer, never shared
}
