/**
 * Following a log stream through dropped connections: after a stream breaks (a proxy
 * timeout, a server restart) the follower reconnects with its cursor, so the server
 * resumes right after the last line received, and no line is lost or shown twice.
 */
import { DstackError, UnavailableError, type ErrorCode } from '../core/errors.js';
import { advanceCursor, formatCursor, type LogCursor } from '../core/log-api.js';
import type { OutputLine } from '../core/log-frames.js';
import type { JobRecord } from '../core/records.js';
import type { HttpResponse } from './http.js';
import { logEvents } from './log-reading.js';

export interface FollowHandlers {
  since?: number;
  /** A promise holds the stream until it settles: the server then waits, not this process's memory. */
  onLines: (lines: OutputLine[]) => void | Promise<void>;
  onJobs?: (jobs: JobRecord[]) => void;
  /**
   * Told when the stream broke and the follower is about to reconnect: once an outage, with
   * its first failure, however many tries the reconnection takes.
   */
  onInterrupted?: (error: Error) => void;
  /** Told when a stream opens again after `onInterrupted`. */
  onResumed?: () => void;
  signal?: AbortSignal;
  /** Give up after this long without a working connection, ms (default 2 minutes). */
  reconnectForMs?: number;
  /** After a break: why no reconnect can work (the local server has stopped), or undefined to try again. */
  serverGone?: () => string | undefined;
}

/** Errors after a stream was open that a reconnection may get past. */
const RETRIED_CODES = new Set<ErrorCode>(['unavailable', 'internal', 'too_many_requests']);

/** Opens the stream, resuming after `cursor` (empty at first). */
export type OpenStream = (cursor: string) => Promise<HttpResponse>;

/** Lines the cursor has not passed yet: a server that resends a line after a reconnect does not show it twice. */
function fresh(lines: OutputLine[], cursor: LogCursor): OutputLine[] {
  return lines.filter((l) => l.seq > (cursor.get(l.jobId) ?? 0));
}

export async function followStream(url: string, open: OpenStream, handlers: FollowHandlers): Promise<void> {
  const cursor: LogCursor = new Map();
  const limit = handlers.reconnectForMs ?? 120_000;
  let connectedAt = Date.now();
  let first = true;
  let interrupted = false;
  for (let attempt = 0; ; attempt++) {
    let failure: Error;
    let opened = false;
    try {
      const response = await open(formatCursor(cursor));
      opened = true;
      first = false;
      connectedAt = Date.now();
      attempt = 0;
      if (interrupted) handlers.onResumed?.();
      interrupted = false;
      for await (const event of logEvents(response)) {
        if (event.event === 'log') {
          const lines = fresh(event.lines, cursor);
          advanceCursor(cursor, lines);
          if (lines.length > 0) await handlers.onLines(lines);
        } else if (event.event === 'jobs') handlers.onJobs?.(event.jobs);
        else return;
      }
      failure = new UnavailableError(`the log stream from ${url} ended early`);
    } catch (e) {
      if (handlers.signal?.aborted) throw e;
      // The first connection's failure, and what the server refused (4xx), are answers, not glitches;
      // but a refusal of one stream too many after a drop is retried: the server may not have seen
      // the dropped connection close yet (a proxy cut it), and holds its place until it does.
      if (first || (e instanceof DstackError && !RETRIED_CODES.has(e.code))) throw e;
      // A stream cut under the reader says no more than `aborted` or `terminated`.
      if (opened && !(e instanceof DstackError)) {
        failure = new UnavailableError(`the connection to ${url} dropped`, { cause: e });
      } else failure = e instanceof Error ? e : new Error(String(e));
    }
    if (handlers.signal?.aborted) return;
    const gone = handlers.serverGone?.();
    if (gone !== undefined) throw new UnavailableError(gone, { cause: failure });
    if (Date.now() - connectedAt > limit) {
      throw new UnavailableError(`lost the log stream from ${url}: ${failure.message}`, { cause: failure });
    }
    if (!interrupted) handlers.onInterrupted?.(failure);
    interrupted = true;
    await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5000)));
  }
}
