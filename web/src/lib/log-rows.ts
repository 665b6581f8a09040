/**
 * Log entries → the rows the log view shows, one per line as the terminal showed it. An
 * entry holds every whole line its job wrote in one read, joined by '\n' (one object per
 * line cost the server six serialisations a line), so it is split here, where lines are
 * rendered, searched and coloured one at a time. A partial entry's last line goes on in
 * the next entry of its job and stream (a `\r` progress bar that paused a second, or a line of
 * more than 64 KiB, which runners send in pieces): the pieces are one row, updated in place as
 * they arrive, however long the line. Pure: no DOM.
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
  /** Characters of the line past MAX_KEPT that the row does not keep (0 for nearly every line). */
  dropped: number;
}

/**
 * The most cells a row keeps of one line; what a line writes past it is counted, not kept (the
 * log's download has it whole). Each piece of a long line draws its row again, so a row's cost
 * grows with its width: a 200 KB line is drawn in 4 pieces, a 100 MB one would be 1,600
 * redraws of up to 100 MB and hold a cell object per character.
 */
export const MAX_KEPT = 1 << 20;

/** A line whose end has not arrived: where its row is and the terminal state that draws it. */
interface OpenLine {
  at: number;
  term: TermLine;
  /** The line as joined so far (its text past MAX_KEPT left out). */
  line: LogLine;
  /** The row is full (MAX_KEPT): later pieces are only counted, in `dropped`. */
  full: boolean;
  dropped: number;
  /** Characters the term held past MAX_KEPT when the full row was drawn: it is not drawn again. */
  overflow?: number;
}

/**
 * Rows appended to (and, for an unfinished line, replaced in) one array as entries arrive:
 * the view re-renders only a new or changed row. A continued line stays where it began, as
 * the first row of its pieces: another stream's (or job's) lines that came between its
 * pieces follow it, ordered by when they began, so stderr never cuts a stdout line in two.
 *
 * A continued line's row is drawn again when the rows are next read, not at each piece: a
 * finished log's 200 KB line arrives as 4 pieces in one event, and drawing each (64, 128, 192
 * and 200 K cells) was most of the time of a log with many such lines.
 */
export class LogRows {
  private readonly list: LogRow[] = [];
  /** By job and stream. */
  private readonly open = new Map<string, OpenLine>();
  /** Lines whose row is to be drawn again (some no longer open). */
  private readonly stale = new Set<OpenLine>();

  /** The rows, each continued line drawn as it now stands. */
  get rows(): LogRow[] {
    this.draw();
    return this.list;
  }

  add(entry: LogLine): void {
    const id = `${entry.jobId}\n${entry.stream}`;
    const texts = entry.text.includes('\n') ? entry.text.split('\n') : [entry.text];
    const last = texts.length - 1;
    texts.forEach((text, i) => {
      // Only an entry's last line can go on in the next entry (partial).
      const partial = i === last && entry.partial === true;
      const open = i === 0 ? this.open.get(id) : undefined;
      if (open) {
        if (open.full) open.dropped += text.length;
        else {
          open.term.feed(text);
          open.full = open.term.width >= MAX_KEPT;
        }
        open.line = lineOf(
          open.line,
          open.full && open.overflow !== undefined ? open.line.text : open.line.text + text,
          partial,
        );
        this.stale.add(open);
        if (!partial) this.open.delete(id);
        return;
      }
      const line = last === 0 ? entry : lineOf(entry, text, partial);
      const term = new TermLine().feed(text);
      if (partial) this.open.set(id, { at: this.list.length, term, line, full: term.width >= MAX_KEPT, dropped: 0 });
      this.list.push(drawn(line, `${entry.jobId}:${entry.seq}:${i}`, i, term));
    });
  }

  /** Draw again the rows of the lines that grew since they were last drawn. */
  private draw(): void {
    for (const open of this.stale) {
      const row = this.list[open.at]!;
      if (open.overflow !== undefined) {
        // Full and drawn: what came since is counted, not drawn.
        this.list[open.at] = { ...row, line: open.line, dropped: open.overflow + open.dropped };
        continue;
      }
      const next = drawn(open.line, row.key, row.index, open.term);
      if (open.full) open.overflow = next.dropped;
      this.list[open.at] = { ...next, dropped: next.dropped + open.dropped };
    }
    this.stale.clear();
  }

  /** Drop the oldest rows but the last `keep`: a live log's memory stays bounded. */
  keepLast(keep: number): void {
    this.draw();
    const drop = this.list.length - keep;
    if (drop <= 0) return;
    this.list.splice(0, drop);
    for (const [id, open] of this.open) {
      if (open.at < drop)
        this.open.delete(id); // its next piece starts a row of its own
      else open.at -= drop;
    }
  }

  /** Put earlier rows (of entries before the first row's) in front. */
  prepend(earlier: readonly LogRow[]): void {
    this.draw();
    this.list.unshift(...earlier);
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
  let segments = term.segments();
  let dropped = 0;
  // A line that came whole (not in pieces) is cut here; one in pieces stops being fed (add).
  const width = segments.reduce((n, s) => n + s.text.length, 0);
  if (width > MAX_KEPT) {
    segments = cutSegments(segments, MAX_KEPT);
    dropped = width - MAX_KEPT;
  }
  return {
    line,
    key,
    index,
    segments,
    search: segments
      .map((s) => s.text)
      .join('')
      .toLowerCase(),
    dropped,
  };
}

/** The first `width` characters of `segments`, as segments (the same ones while they fit). */
export function cutSegments(segments: readonly Segment[], width: number): Segment[] {
  const out: Segment[] = [];
  let left = width;
  for (const segment of segments) {
    if (left <= 0) break;
    out.push(segment.text.length <= left ? segment : { text: segment.text.slice(0, left), style: segment.style });
    left -= segment.text.length;
  }
  return out;
}

/**
 * One line's fields: `raw` goes, as it holds the exact bytes of its entry's one line, not
 * those of one of several lines, nor of a line joined from pieces.
 */
function lineOf(first: LogLine, text: string, partial: boolean): LogLine {
  const { jobId, seq, ts, stream } = first;
  return partial ? { jobId, seq, ts, stream, text, partial } : { jobId, seq, ts, stream, text };
}
