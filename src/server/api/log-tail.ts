/**
 * Where a reader that asked for a log's tail (`tail=N` lines) starts: after the sequence
 * number past which the log's last entries hold at least N lines. An entry holds the lines of
 * one read (one line, or thousands), so the search steps back by entries, four times further
 * each try, reading only the end of the log: a page that shows the last lines of a
 * 2,000,000-line log does not load them all (the dashboard's job page).
 */
import type { OutputEntry } from '../../core/log-batch.js';
import type { LogStore } from '../storage/log-store.js';

/** The sequence number to read after: 0 when the whole log holds fewer than `lines` lines. */
export async function tailStart(logs: LogStore, logId: string, lines: number): Promise<number> {
  const last = await logs.lastSequence(logId);
  for (let back = Math.min(last, 16); ; back = Math.min(last, back * 4)) {
    const from = last - back;
    const counts: { seq: number; lines: number }[] = [];
    for await (const entry of logs.entries(logId, { afterSeq: from })) {
      if (entry.seq > last) break; // appended since: not needed to reach N
      counts.push({ seq: entry.seq, lines: linesOf(entry) });
    }
    let total = 0;
    for (let i = counts.length - 1; i >= 0; i--) {
      total += counts[i]!.lines;
      if (total >= lines) return counts[i]!.seq - 1;
    }
    if (from === 0) return 0;
  }
}

/** Lines of an entry: its output's newlines and one (entries hold no final newline; a raw one is one line). */
function linesOf(entry: OutputEntry): number {
  if (entry.raw) return 1;
  let n = 1;
  for (let at = entry.bytes.indexOf(10); at >= 0; at = entry.bytes.indexOf(10, at + 1)) n++;
  return n;
}
