/**
 * A job's whole log as the text `dstack logs JOB` prints (cli/log-printer.ts, stdout and stderr
 * to one place): each entry's output bytes as the job wrote them, a newline after each whole
 * line, a line left unfinished by an entry going on in the next entry of its stream, and ended
 * where the other stream's line comes between. Read from the log store an append at a time.
 */
import type { OutputEntry } from '../../core/log-batch.js';

const NEWLINE = Buffer.from('\n');

export async function* logText(entries: AsyncIterable<OutputEntry>): AsyncGenerator<Buffer> {
  /** The stream whose line the last entry left unfinished. */
  let open: OutputEntry['stream'] | undefined;
  for await (const entry of entries) {
    if (open !== undefined && open !== entry.stream) yield NEWLINE;
    yield entry.bytes;
    if (entry.partial) open = entry.stream;
    else {
      open = undefined;
      yield NEWLINE;
    }
  }
  if (open !== undefined) yield NEWLINE; // as `dstack logs` ends an unfinished last line
}
