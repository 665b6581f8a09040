/**
 * Following a job's log live: `GET /api/logs/stream` read with fetch (the Authorization
 * header, never a token in the URL), lines parsed once as they arrive, reconnecting with
 * back-off when the connection drops, after the last entry it got (the cursor); an entry seen
 * before (by its per-job number) is skipped. Each entry becomes one row per line it holds, and
 * a partial entry's line grows in place as its next pieces arrive (log-rows.ts).
 *
 * Only the tail is loaded (`tail=`: the last TAIL_LINES lines), and only the newest rows are
 * kept while a chatty job goes on: a 2,000,000-line log costs the page what 3,000 lines do.
 * Earlier lines come a page at a time on request (`loadEarlier`).
 *
 * The stream ends when the job does (`end`). A job can go on after that: resumed, it is followed
 * again from the cursor, with the lines already shown kept; and a job that ended with its runner
 * (`runner lost`) may still get the lines that runner had not delivered when it comes back, so its
 * log is read again from the cursor every LATE_LINES_MS while the page is visible.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LogLine } from '../../../src/core/api.js';
import type { LogPage } from '../../../src/core/log-api.js';
import { isFinished } from '../../../src/core/job-status.js';
import type { JobRecord } from '../../../src/core/records.js';
import { ApiError, apiFetch } from '../api/client.js';
import { readSse } from '../api/sse.js';
import { LogRows, type LogRow } from './log-rows.js';

export type { LogRow } from './log-rows.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

/** Lines loaded when the page opens, and again each time earlier ones are asked for. */
export const TAIL_LINES = 3000;
/** Rows past the kept number before the oldest are dropped: trimming once per this many, not per line. */
const TRIM_SLACK = 1000;
/** How often a stream refused as one too many of the user's (HTTP 429) is tried again. */
export const REFUSED_RETRY_MS = 15_000;
/** How often the log of a job that ended with its runner is read again for lines that runner still sends. */
export const LATE_LINES_MS = 5000;

/** What the page knows of the job, which says when its ended stream should be opened again. */
export interface JobWatch {
  /** The job has not finished, as the page last heard it. */
  live: boolean;
  /**
   * Changes with each of the job's transitions (its status and how many it has had): a change
   * to an unfinished status after the stream ended is a resume, however quickly it followed the
   * stop. A page that has not heard of a change yet (an answer older than the end) keeps it.
   */
  transitions: string;
  /** The job ended with its runner (`runner lost`, `runner restarted`): lines may still arrive. */
  lateLines: boolean;
}

export interface LogStream {
  /**
   * The loaded lines, one row a line: appended in place, and an unfinished line's row
   * replaced in place as it grows; the hook renders again once a frame when either happened.
   */
  rows: readonly LogRow[];
  count: number;
  state: StreamState;
  /** The jobs' latest records, as the stream reports their changes. */
  jobs?: JobRecord[];
  error?: string;
  /** The log has lines before the first row loaded. */
  hasEarlier: boolean;
  loadingEarlier: boolean;
  /** Load about TAIL_LINES lines before the first row. */
  loadEarlier(): void;
}

interface Following {
  own: LogRows;
  keep: number;
  last: Map<string, number>;
  /** Open the stream again from the cursor; `quiet`: a check for late lines, which shows no connecting. */
  connect(quiet: boolean): void;
  /** A stream is open or being opened. */
  connected: boolean;
  /** The last stream ended with `end` (not refused, not given up). */
  ended: boolean;
}

export function useLogStream(target: string, watch: JobWatch): LogStream {
  const log = useRef<Following>(undefined);
  // Bumped to render again: the rows change in place.
  const [, setVersion] = useState(0);
  const [state, setState] = useState<StreamState>('connecting');
  const [jobs, setJobs] = useState<JobRecord[]>();
  const [error, setError] = useState<string>();
  const [loadingEarlier, setLoadingEarlier] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    const own = new LogRows();
    const lastSeq = new Map<string, number>();
    const current: Following = {
      own,
      keep: TAIL_LINES,
      last: lastSeq,
      connect: (quiet) => void follow(quiet),
      connected: false,
      ended: false,
    };
    log.current = current;
    setVersion((v) => v + 1);
    setState('connecting');
    setError(undefined);
    setLoadingEarlier(false);
    // Many events can arrive within a frame: render once per frame.
    let frame = 0;
    const render = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setVersion((v) => v + 1);
      });
    };
    const add = (lines: LogLine[]) => {
      for (const line of lines) {
        if (line.seq <= (lastSeq.get(line.jobId) ?? 0)) continue;
        lastSeq.set(line.jobId, line.seq);
        own.add(line);
      }
      if (own.rows.length > current.keep + TRIM_SLACK) own.keepLast(current.keep);
      render();
    };

    const follow = async (check: boolean) => {
      let quiet = check;
      current.connected = true;
      // A check for late lines leaves the stream ended (failed, it is made again at the next).
      if (!quiet) {
        current.ended = false;
        setState('connecting');
      }
      /** The last try was refused as one stream too many: its message is shown until one opens. */
      let refused = false;
      try {
        for (let attempt = 0; !abort.signal.aborted; attempt++) {
          try {
            // Back after a drop: right after what arrived (a job not seen yet starts at its tail).
            const cursor = [...lastSeq].map(([job, seq]) => `${job}:${seq}`).join(',');
            const from = `tail=${TAIL_LINES}${cursor ? `&cursor=${cursor}` : ''}`;
            const response = await apiFetch(`/logs/stream?target=${encodeURIComponent(target)}&${from}`, {
              signal: abort.signal,
            });
            if (!quiet) setState('live');
            if (refused) setError(undefined);
            refused = false;
            attempt = 0;
            for await (const event of readSse(response)) {
              if (event.event === 'log') add(JSON.parse(event.data) as LogLine[]);
              else if (event.event === 'jobs') {
                const jobs = JSON.parse(event.data) as JobRecord[];
                setJobs(jobs);
                // A check for late lines that finds the job going again (resumed meanwhile) follows it.
                if (quiet && jobs.some((j) => !isFinished(j.status))) {
                  quiet = false;
                  current.ended = false;
                  setState('live');
                }
              } else if (event.event === 'end') {
                current.ended = true;
                setState('ended');
                return;
              }
            }
          } catch (e) {
            if (abort.signal.aborted) return;
            // One stream too many of this user's (other tabs, `dstack logs -f`): say so, and try
            // again now and then, as a place frees once one of those ends.
            if (e instanceof ApiError && e.status === 429) {
              if (quiet) return; // a check for late lines: made again at the next
              refused = true;
              setError(`${e.message} (trying again every ${REFUSED_RETRY_MS / 1000} s)`);
              setState('reconnecting');
              await new Promise((r) => setTimeout(r, REFUSED_RETRY_MS));
              continue;
            }
            // The server said no (no such job, not yours): trying again will not change that.
            if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
              setError(e.message);
              setState('failed');
              return;
            }
          }
          if (abort.signal.aborted || quiet) return;
          setState('reconnecting');
          await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 10_000)));
        }
      } finally {
        current.connected = false;
      }
    };

    void follow(false);
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
    };
  }, [target]);

  // Resumed: the job is going again after its stream ended.
  useEffect(() => {
    const current = log.current;
    if (watch.live && current?.ended && !current.connected) current.connect(false);
  }, [target, watch.live, watch.transitions]);

  // Ended with its runner: its lines may still come when the runner does.
  useEffect(() => {
    if (!watch.lateLines || state !== 'ended') return;
    const timer = setInterval(() => {
      const current = log.current;
      if (current?.ended && !current.connected && !document.hidden) current.connect(true);
    }, LATE_LINES_MS);
    return () => clearInterval(timer);
  }, [target, watch.lateLines, state]);

  const current = log.current;
  const rows = current?.own.rows ?? [];
  const loadEarlier = () => {
    if (!current || loadingEarlier) return;
    setLoadingEarlier(true);
    earlierRows(current.own.rows, current.last)
      .then((earlier) => {
        if (log.current !== current) return; // another target since
        current.own.prepend(earlier);
        current.keep = Math.max(current.keep, current.own.rows.length);
        setError(undefined);
      })
      .catch((e: Error) => setError(`could not load earlier lines: ${e.message}`))
      .finally(() => setLoadingEarlier(false));
  };
  return {
    rows,
    count: rows.length,
    state,
    jobs,
    error,
    hasEarlier: firstRows(rows).some((row) => row.line.seq > 1 || row.index > 0),
    loadingEarlier,
    loadEarlier,
  };
}

/** Each job's first loaded row. */
function firstRows(rows: readonly LogRow[]): LogRow[] {
  const first = new Map<string, LogRow>();
  for (const row of rows) if (!first.has(row.line.jobId)) first.set(row.line.jobId, row);
  return [...first.values()];
}

/**
 * About TAIL_LINES lines before each job's first row, as rows. An entry holds one line or
 * thousands: as many entries as that took among the loaded ones are read, then four times
 * more each time until they hold enough (or the log's start is reached).
 */
async function earlierRows(rows: readonly LogRow[], lastSeq: ReadonlyMap<string, number>): Promise<LogRow[]> {
  const entries: LogLine[] = [];
  for (const first of firstRows(rows)) {
    const { jobId, seq } = first.line;
    // The first row's entry too when the row is not its first line (the rows before were dropped).
    let upTo = first.index > 0 ? seq : seq - 1;
    const loadedEntries = Math.max(1, (lastSeq.get(jobId) ?? seq) - seq + 1);
    const linesPerEntry = rows.filter((r) => r.line.jobId === jobId).length / loadedEntries;
    let want = Math.max(1, Math.ceil(TAIL_LINES / linesPerEntry));
    const chunks: LogLine[][] = [];
    for (let lines = 0; upTo > 0 && lines < TAIL_LINES; want *= 4) {
      const after = Math.max(0, upTo - Math.min(want, 50_000));
      const chunk = await readEntries(jobId, after, upTo);
      chunks.unshift(chunk);
      for (const e of chunk) lines += e.seq === seq ? first.index : e.text.split('\n').length;
      upTo = after;
    }
    entries.push(...chunks.flat());
  }
  entries.sort((a, b) => a.ts - b.ts); // stable: each job's entries stay in sequence order
  const built = new LogRows();
  for (const entry of entries) built.add(entry);
  const firsts = new Map(firstRows(rows).map((r) => [r.line.jobId, r]));
  // Of the first row's own entry, only the lines before it.
  const before = built.rows.filter((r) => {
    const first = firsts.get(r.line.jobId)!;
    return r.line.seq < first.line.seq || r.index < first.index;
  });
  // Entries read by an estimate from the loaded ones may hold far more lines each (a pipe read
  // under load holds thousands): each job's last TAIL_LINES only, the rest left for the next ask.
  const kept = new Map<string, number>();
  const last: LogRow[] = [];
  for (let i = before.length - 1; i >= 0; i--) {
    const row = before[i]!;
    const n = kept.get(row.line.jobId) ?? 0;
    if (n >= TAIL_LINES) continue;
    kept.set(row.line.jobId, n + 1);
    last.push(row);
  }
  return last.reverse();
}

/** A job's entries after `after` up to `upTo`, a page at a time. */
async function readEntries(jobId: string, after: number, upTo: number): Promise<LogLine[]> {
  const entries: LogLine[] = [];
  while (after < upTo) {
    const query = `target=${jobId}&cursor=${jobId}:${after}&limit=${upTo - after}`;
    const page = (await (await apiFetch(`/logs?${query}`)).json()) as LogPage;
    const got = page.entries.filter((e) => e.seq <= upTo);
    entries.push(...got);
    if (got.length === 0 || !page.more) break;
    after = got[got.length - 1]!.seq;
  }
  return entries;
}
