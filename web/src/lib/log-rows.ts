/**
 * Log entries → the rows the log view shows, one per line as the terminal showed it. An
 * entry holds every whole line its job wrote in one read, joined by '\n' (one object per
 * line cost the server six serialisations a line), so it is split here, where lines are
 * rendered, searched and coloured one at a time. A partial entry's last line goes on in
 * the next entry of its job and stream (a `\r` progress bar that paused a second): the
 * pieces are one row, updated in place as they arrive. Pure: no DOM.
 */
import type { LogLine } from '../../../src/core/api.js';
import { TermLine, type Segment } from './ansi.js';

export interface LogRow {
  /**
   * The line: its first entry's fields (seq, ts) with the text of this one line, every
   * piece of it joined; `partial` while its end has not arrived.
   */
  line: LogLine;
  /** Unique among a log's rows and stable as the line grows: job, entry and the line's place in it. */
  key: string;
  /** The line's place among its first entry's lines. */
  index: number;
  segments: Segment[];
  /** What the line shows, unstyled, lower-cased: what search looks in. */
  search: string;
}

/**
 * A joined line is at most about this many cells wide; a longer one goes on in a new row,
 * as a terminal wraps it, so that each piece re-draws a bounded row (a 100 MB line is
 * pieces of 64 KiB, which before they were joined were rows of their own too).
 */
const MAX_WIDTH = 64 * 1024;

/** A line whose end has not arrived: where its row is and the terminal state that draws it. */
interface OpenLine {
  at: number;
  term: TermLine;
}

/**
 * Rows appended to (and, for an unfinished line, replaced in) one array as entries arrive:
 * the view re-renders only a new or changed row. A continued line stays where it began, as
 * the first row of its pieces: another stream's (or job's) lines that came between its
 * pieces follow it, ordered by when they began, so stderr never cuts a stdout line in two.
 */
export class LogRows {
  readonly rows: LogRow[] = [];
  /** By job and stream. */
  private readonly open = new Map<string, OpenLine>();

  add(entry: LogLine): void {
    const id = `${entry.jobId}\n${entry.stream}`;
    const texts = entry.text.includes('\n') ? entry.text.split('\n') : [entry.text];
    const last = texts.length - 1;
    texts.forEach((text, i) => {
      // Only an entry's last line can go on in the next entry (partial).
      const partial = i === last && entry.partial === true;
      const open = i === 0 ? this.open.get(id) : undefined;
      if (open && open.term.width < MAX_WIDTH) {
        const row = this.rows[open.at]!;
        const joined = lineOf(row.line, row.line.text + text, partial);
        this.rows[open.at] = drawn(joined, row.key, row.index, open.term.feed(text));
        if (!partial) this.open.delete(id);
        return;
      }
      const line = last === 0 && !open ? entry : lineOf(entry, text, partial);
      const term = new TermLine().feed(text);
      if (partial) this.open.set(id, { at: this.rows.length, term });
      else if (open) this.open.delete(id);
      this.rows.push(drawn(line, `${entry.jobId}:${entry.seq}:${i}`, i, term));
    });
  }

  /** Drop the oldest rows but the last `keep`: a live log's memory stays bounded. */
  keepLast(keep: number): void {
    const drop = this.rows.length - keep;
    if (drop <= 0) return;
    this.rows.splice(0, drop);
    for (const [id, open] of this.open) {
      if (open.at < drop)
        this.open.delete(id); // its next piece starts a row of its own
      else open.at -= drop;
    }
  }

  /** Put earlier rows (of entries before the first row's) in front. */
  prepend(earlier: readonly LogRow[]): void {
    this.rows.unshift(...earlier);
    for (const open of this.open.values()) open.at += earlier.length;
  }
}

/** The rows of `entries`, in the order they arrived. */
export function logRows(entries: readonly LogLine[]): LogRow[] {
  const rows = new LogRows();
  for (const entry of entries) rows.add(entry);
  return rows.rows;
}

function drawn(line: LogLine, key: string, index: number, term: TermLine): LogRow {
  const segments = term.segments();
  return {
    line,
    key,
    index,
    segments,
    search: segments
      .map((s) => s.text)
      .join('')
      .toLowerCase(),
  };
}

/**
 * One line's fields: `raw` goes, as it holds the exact bytes of its entry's one line, not
 * those of one of several lines, nor of a line joined from pieces.
 */
function lineOf(first: LogLine, text: string, partial: boolean): LogLine {
  const { jobId, seq, ts, stream } = first;
  return partial ? { jobId, seq, ts, stream, text, partial } : { jobId, seq, ts, stream, text };
}
