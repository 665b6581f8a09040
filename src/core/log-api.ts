/**
 * Log reading by pages and resuming a followed log: a cursor says, per job, the last
 * sequence number a reader has, so that the next page or a reconnected stream starts
 * right after it, with no line lost or doubled. Written `jobId:seq,jobId:seq`.
 */
import type { LogLine } from './api.js';

export type LogCursor = Map<string, number>;

/** `GET /api/logs`: one page of lines in time order, and where the next page starts. */
export interface LogPage {
  entries: LogLine[];
  /** Pass back as `cursor=` for the next page. */
  cursor: string;
  /** False once the page reaches the end of every job's log (as of the request). */
  more: boolean;
}

export const CURSOR = /^([0-9a-f]{12}:\d+)(,[0-9a-f]{12}:\d+)*$/;

export function formatCursor(cursor: LogCursor): string {
  return [...cursor].map(([job, seq]) => `${job}:${seq}`).join(',');
}

/** Parse a cursor; undefined when it is not one (an empty string is an empty cursor). */
export function parseCursor(text: string | undefined): LogCursor | undefined {
  if (text === undefined || text === '') return new Map();
  if (!CURSOR.test(text)) return undefined;
  return new Map(
    text.split(',').map((part) => {
      const [job, seq] = part.split(':') as [string, string];
      return [job, Number(seq)];
    }),
  );
}

/** Move the cursor past `lines`. */
export function advanceCursor(cursor: LogCursor, lines: readonly Pick<LogLine, 'jobId' | 'seq'>[]): void {
  for (const line of lines) if (line.seq > (cursor.get(line.jobId) ?? 0)) cursor.set(line.jobId, line.seq);
}
