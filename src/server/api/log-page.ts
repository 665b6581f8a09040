/**
 * One page of a run's (or a job's) log for `GET /api/logs`: each job's log read from its
 * cursor, the entries of all jobs merged in time order. The page never runs ahead of a job
 * whose log was cut short by the page limit, so the next page continues in order. Entries
 * keep their output as bytes: the route sends them as JSON (log-json.ts) or as a frame (log-frames.ts).
 */
import { formatCursor, type LogCursor } from '../../core/log-api.js';
import type { LogStore } from '../storage/log-store.js';
import type { TaggedEntry } from '../../core/log-frames.js';

export interface LogSource {
  /** The job whose lines these are. */
  jobId: string;
  /** The log they are read from (a cached job shows the log of the job it reuses). */
  logId: string;
}

/** A page as `LogPage` (core/log-api.ts) has it, before its entries are encoded. */
export interface RawLogPage {
  entries: TaggedEntry[];
  cursor: string;
  more: boolean;
  /** The jobs whose logs this page took to their end: a reader that goes on need not read them again. */
  ended: string[];
}

/** Bytes of entries a page holds at most, whatever the entry limit: long entries make short pages. */
const PAGE_BYTES = 8 << 20;

export async function readLogPage(
  logs: LogStore,
  sources: readonly LogSource[],
  cursor: LogCursor,
  since: number | undefined,
  limit: number,
  /** Bytes of each log a page reads at most (at least one entry of each). */
  maxBytes = PAGE_BYTES,
): Promise<RawLogPage> {
  // Ordered by each job's running maximum time, not the raw time: if a runner's clock stepped
  // back, its entries still come in sequence order, so a page always takes a prefix of each log.
  const candidates: { line: TaggedEntry; key: number }[] = [];
  /** The latest key the page may reach: that of the last entry read of any job not read to its end. */
  let bound = Infinity;
  let more = false;
  const done = new Set<string>();
  for (const { jobId, logId } of sources) {
    const query = { afterSeq: cursor.get(jobId) ?? 0, ...(since === undefined ? {} : { since }) };
    const page = await logs.page(logId, query, { maxEntries: limit, maxBytes });
    if (page.done) done.add(jobId);
    let key = -Infinity;
    for (const entry of page.entries) {
      key = Math.max(key, entry.ts);
      candidates.push({ line: { jobId, entry }, key });
    }
    if (!page.done) {
      more = true;
      bound = Math.min(bound, key);
    }
  }
  // Stable: entries of the same time keep their job's order and their sequence order.
  candidates.sort((a, b) => a.key - b.key);
  let take = 0;
  while (take < candidates.length && take < limit && candidates[take]!.key <= bound) take++;
  if (take < candidates.length) more = true;
  const entries = candidates.slice(0, take).map((c) => c.line);
  const next = new Map(cursor);
  for (const { jobId, entry } of entries) if (entry.seq > (next.get(jobId) ?? 0)) next.set(jobId, entry.seq);
  const left = new Set(candidates.slice(take).map((c) => c.line.jobId));
  const ended = [...done].filter((jobId) => !left.has(jobId));
  return { entries, cursor: formatCursor(next), more, ended };
}
