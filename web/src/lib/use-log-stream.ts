/**
 * Following a job's log live: `GET /api/logs/stream` read with fetch (the Authorization
 * header, never a token in the URL), lines parsed once as they arrive, reconnecting with
 * back-off when the connection drops; an entry seen before (by its per-job number) is skipped.
 * Each entry becomes one row per line it holds, and a partial entry's line grows in place as
 * its next pieces arrive (log-rows.ts).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LogLine } from '../../../src/core/api.js';
import type { JobRecord } from '../../../src/core/records.js';
import { ApiError, apiFetch } from '../api/client.js';
import { readSse } from '../api/sse.js';
import { LogRows, type LogRow } from './log-rows.js';

export type { LogRow } from './log-rows.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface LogStream {
  /**
   * Every line so far, one row a line: appended in place, and an unfinished line's row
   * replaced in place as it grows; the hook renders again once a frame when either happened.
   */
  rows: readonly LogRow[];
  count: number;
  state: StreamState;
  /** The jobs' latest records, as the stream reports their changes. */
  jobs?: JobRecord[];
  error?: string;
}

export function useLogStream(target: string): LogStream {
  const rows = useRef<LogRow[]>([]);
  // Bumped to render again: the rows change in place.
  const [, setVersion] = useState(0);
  const [state, setState] = useState<StreamState>('connecting');
  const [jobs, setJobs] = useState<JobRecord[]>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    const abort = new AbortController();
    const own = new LogRows();
    rows.current = own.rows;
    setVersion((v) => v + 1);
    setState('connecting');
    setError(undefined);
    const lastSeq = new Map<string, number>();
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
      render();
    };

    void (async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        try {
          const response = await apiFetch(`/logs/stream?target=${encodeURIComponent(target)}`, {
            signal: abort.signal,
          });
          setState('live');
          attempt = 0;
          for await (const event of readSse(response)) {
            if (event.event === 'log') add(JSON.parse(event.data) as LogLine[]);
            else if (event.event === 'jobs') setJobs(JSON.parse(event.data) as JobRecord[]);
            else if (event.event === 'end') {
              setState('ended');
              return;
            }
          }
        } catch (e) {
          if (abort.signal.aborted) return;
          // The server said no (no such job, not yours): trying again will not change that.
          if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
            setError(e.message);
            setState('failed');
            return;
          }
        }
        if (abort.signal.aborted) return;
        setState('reconnecting');
        await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 10_000)));
      }
    })();
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
    };
  }, [target]);

  return { rows: rows.current, count: rows.current.length, state, jobs, error };
}
