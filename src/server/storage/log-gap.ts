/**
 * A hole at the start of a batch: entries the server acknowledged once, on a disk it no longer
 * has (a new data folder; a running job's log is archived only once it ends), so that the runner
 * dropped them from its spool. The log goes on past them, saying so where they were.
 */
import type { OutputEntry } from '../../core/log-batch.js';

/**
 * The `[dstack]` entry that stands for entries `from` up to `next`'s (exclusive), which this
 * log lacks: it takes the last missing seq, and `next`'s time.
 */
export function gapNote(from: number, next: OutputEntry): OutputEntry {
  const to = next.seq - 1;
  const [which, are] = from === to ? [`log entry ${to} was`, 'is'] : [`log entries ${from}–${to} were`, 'are'];
  const text = `[dstack] ${which} kept by the server's previous data folder (or lost with its disk) and ${are} not here`;
  return { seq: to, ts: next.ts, stream: 'stderr', bytes: Buffer.from(text) };
}
