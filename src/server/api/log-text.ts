/**
 * A job's or a run's whole log as the text `dstack logs` prints (cli/log-printer.ts, stdout and
 * stderr to one place, uncoloured as in a file): each entry's output bytes as the job wrote them,
 * a newline after each whole line, a line left unfinished by an entry going on in the next entry
 * of its job and stream, and ended where another's line comes between; several jobs' lines each
 * under the job's prefix (`train | `). Read from the log store an append or a page at a time.
 */
import type { OutputEntry } from '../../core/log-batch.js';
import type { TaggedEntry } from '../../core/log-frames.js';
import { prefixed } from '../../core/line-prefix.js';

const NEWLINE = Buffer.from('\n');

/** One job's log. */
export async function* logText(entries: AsyncIterable<OutputEntry>): AsyncGenerator<Buffer> {
  yield* taggedLogText(tagged(entries));
}

async function* tagged(entries: AsyncIterable<OutputEntry>): AsyncGenerator<readonly TaggedEntry[]> {
  for await (const entry of entries) yield [{ jobId: '', entry }];
}

/** Several jobs' entries in the order they are printed, in batches; `prefixes`: each job's (none for one job). */
export async function* taggedLogText(
  batches: AsyncIterable<readonly TaggedEntry[]>,
  prefixes: ReadonlyMap<string, Buffer> = new Map(),
): AsyncGenerator<Buffer> {
  /** The job and stream whose line the last entry left unfinished. */
  let open: { jobId: string; stream: OutputEntry['stream'] } | undefined;
  for await (const batch of batches) {
    const pieces: Buffer[] = [];
    for (const { jobId, entry } of batch) {
      const continues = open?.jobId === jobId && open.stream === entry.stream;
      if (open && !continues) pieces.push(NEWLINE);
      const lead = prefixes.get(jobId);
      if (lead && !continues) pieces.push(lead);
      if (lead) prefixed(entry.bytes, lead, pieces);
      else pieces.push(entry.bytes);
      if (entry.partial) open = { jobId, stream: entry.stream };
      else {
        open = undefined;
        pieces.push(NEWLINE);
      }
    }
    yield* pieces;
  }
  if (open !== undefined) yield NEWLINE; // as `dstack logs` ends an unfinished last line
}
