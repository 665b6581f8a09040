/**
 * One page of a run's (or a job's) log for `GET /api/logs`: each job's log read from its
 * cursor, the lines of all jobs merged in time order. The page never runs ahead of a job
 * whose log was cut short by the page limit, so the next page continues in order.
 */
import type { LogLine } from '../../core/api.js';
import { advanceCursor, formatCursor, type LogCursor, type LogPage } from '../../core/log-api.js';
import type { LogStore } from '../storage/log-store.js';

export interface LogSource {
  /** The job whose lines these are. */
  jobId: string;
  /** The log they are read from (a cached job shows the log of the job it reuses). */
  logId: string;
}

/** Bytes of lines a page holds at most, whatever the entry limit: long lines make short pages. */
const PAGE_BYTES = 8 << 20;

export async function readLogPage(
  logs: LogStore,
  sources: readonly LogSource[],
  cursor: LogCursor,
  since: number | undefined,
  limit: number,
): Promise<LogPage> {
  // Ordered by each job's running maximum time, not the raw time: if a runner's clock stepped
  // back, its lines still come in sequence order, so a page always takes a prefix of each log.
  const candidates: { line: LogLine; key: number }[] = [];
  /** The latest key the page may reach: that of the last line read of any job not read to its end. */
  let bound = Infinity;
  let more = false;
  for (const { jobId, logId } of sources) {
    const query = { afterSeq: cursor.get(jobId) ?? 0, ...(since === undefined ? {} : { since }) };
    const page = await logs.page(logId, query, { maxEntries: limit, maxBytes: PAGE_BYTES });
    let key = -Infinity;
    for (const e of page.entries) {
      key = Math.max(key, e.ts);
      const line = e as LogLine; // fresh from disk: tagged in place rather than copied
      line.jobId = jobId;
      candidates.push({ line, key });
    }
    if (!page.done) {
      more = true;
      bound = Math.min(bound, key);
    }
  }
  // Stable: lines of the same time keep their job's order and their sequence order.
  candidates.sort((a, b) => a.key - b.key);
  let take = 0;
  while (take < candidates.length && take < limit && candidates[take]!.key <= bound) take++;
  if (take < candidates.length) more = true;
  const entries = candidates.slice(0, take).map((c) => c.line);
  const next = new Map(cursor);
  advanceCursor(next, entries);
  return { entries, cursor: formatCursor(next), more };
}
