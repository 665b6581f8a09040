/** Times, durations and sizes as the dashboard shows them. Pure. */
import type { JobEvent, JobRecord } from '../../../src/core/records.js';
import { isFinished } from '../../../src/core/job-status.js';

export { formatSize } from '../../../src/core/resources.js';

/** `12s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function ago(at: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** `0.4s`, `45s`, `3m 05s`, `2h 03m`. */
export function duration(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** How long jobs have run: from the first start to the last finish (or now), undefined before any start. */
export function jobsDuration(jobs: readonly JobRecord[], now = Date.now()): number | undefined {
  const starts = jobs.map((j) => j.startedAt).filter((t): t is number => t !== undefined);
  if (starts.length === 0) return undefined;
  const finished = jobs.every((j) => isFinished(j.status));
  const ends = jobs.map((j) => j.finishedAt).filter((t): t is number => t !== undefined);
  const end = finished && ends.length > 0 ? Math.max(...ends) : now;
  return end - Math.min(...starts);
}

/**
 * A job's running time over all its attempts, from its status history: each start (RUNNING)
 * to that attempt's end (the next finished status: STOPPED, DONE…), or `now` for one going
 * on. A resumed job's record holds only its last attempt's start (startedAt is set again).
 */
export function timeRan(events: readonly JobEvent[], now = Date.now()): { ms: number; attempts: number } | undefined {
  let ms = 0;
  let attempts = 0;
  let start: number | undefined;
  for (const e of events) {
    if (e.to === 'RUNNING') {
      attempts++;
      start ??= e.at;
    } else if (isFinished(e.to) && start !== undefined) {
      ms += e.at - start;
      start = undefined;
    }
  }
  if (start !== undefined) ms += Math.max(0, now - start);
  return attempts === 0 ? undefined : { ms, attempts };
}

/**
 * `4.0s`, or `4.0s (last attempt)` where a job was resumed: without its history, a record says
 * only how long its last attempt ran (jobsDuration), and the page must not pass it off as all.
 */
export function jobsDurationLabel(jobs: readonly JobRecord[], now = Date.now()): string | undefined {
  const took = jobsDuration(jobs, now);
  if (took === undefined) return undefined;
  return jobs.some((j) => j.resumed) ? `${duration(took)} (last attempt)` : duration(took);
}

/** `2025-01-31 14:05:09`, local time. */
export function dateTime(at: number): string {
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `14:05:09.123`, local time: a log line's timestamp. */
export function clockTime(at: number): string {
  const d = new Date(at);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
