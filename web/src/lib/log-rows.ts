/**
 * Log entries → the rows the log view shows, one per line. An entry holds every whole line
 * its job wrote in one read, joined by '\n' (one object per line cost the server six
 * serialisations a line), so it is split here, where lines are rendered, searched and
 * coloured one at a time. Pure: no DOM.
 */
import type { LogLine } from '../../../src/core/api.js';
import { parseAnsi, type Segment } from './ansi.js';

export interface LogRow {
  /** The line: its entry's fields with the text of this one line. */
  line: LogLine;
  /** Unique among a log's rows: job, entry and the line's place in it. */
  key: string;
  segments: Segment[];
  /** What the line shows, unstyled, lower-cased: what search looks in. */
  search: string;
}

export function entryRows(entry: LogLine): LogRow[] {
  const texts = entry.text.includes('\n') ? entry.text.split('\n') : [entry.text];
  const last = texts.length - 1;
  return texts.map((text, i) => {
    // Only an entry's last line can go on in the next entry (partial).
    const line: LogLine = last === 0 ? entry : { ...entry, text, ...(i < last ? { partial: false } : {}) };
    const segments = parseAnsi(text);
    return {
      line,
      key: `${entry.jobId}:${entry.seq}:${i}`,
      segments,
      search: segments
        .map((s) => s.text)
        .join('')
        .toLowerCase(),
    };
  });
}
