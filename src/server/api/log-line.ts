/**
 * One log entry as a JSON line: the same text as `JSON.stringify` of the entry with its
 * fields in order (seq, ts, stream, text, partial, raw), built by hand, which is about twice
 * as fast for the many entries of a busy job's log.
 */
import type { LogEntry } from '../../core/records.js';

export function logLine(e: LogEntry): string {
  // Numbers print as JSON prints them (finite: validated by the routes' schema); strings through JSON.
  let line = `{"seq":${e.seq},"ts":${e.ts},"stream":${e.stream === 'stdout' ? '"stdout"' : JSON.stringify(e.stream)},"text":${JSON.stringify(e.text)}`;
  if (e.partial) line += ',"partial":true';
  if (e.raw !== undefined) line += `,"raw":${JSON.stringify(e.raw)}`;
  return line + '}\n';
}
