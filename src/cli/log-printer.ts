/**
 * Printing log entries as the job wrote them: stdout lines to stdout, stderr lines to stderr,
 * a partial entry continued by the next one of its stream (so `\r` progress bars redraw in
 * place), binary output as its exact bytes, and a workflow prefix on every line when several
 * jobs share the terminal. An entry's output may hold several lines (joined by '\n').
 *
 * An unfinished line is ended ('\n') only where something else would be written onto it: a
 * line of another job, or of the other stream when stdout and stderr go to one place (a
 * terminal, `2>&1`), where both are written through stdout to keep their order. Where they go
 * to different places (`2>/dev/null`, a pipe each), a stderr line between the pieces of a stdout
 * line (one of over 64 KiB, sent in pieces) leaves it whole.
 */
import { once } from 'node:events';
import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import pc from 'picocolors';
import type { OutputLine } from '../core/log-frames.js';
import { jobPrefixes, prefixed } from '../core/line-prefix.js';
import type { JobRecord } from '../core/records.js';

const COLORS = [pc.cyan, pc.magenta, pc.yellow, pc.blue, pc.green];
const NEWLINE = Buffer.from('\n');

/** A terminal, pipe or file (process.stdout); a test's stand-in needs only `write`. */
type Out = Pick<Writable, 'write'> &
  Partial<Pick<Writable, 'cork' | 'uncork' | 'writableNeedDrain' | 'once'>> & { fd?: number };
type Stream = OutputLine['stream'];

/**
 * Whether stdout and stderr reach one place: one open file (a terminal, a pipe, a file) behind
 * both descriptors, or one stream object. Unknown (a descriptor that cannot be read) counts as
 * one: a line break too many is better than two lines run together.
 */
export function sharedOutput(out: Record<Stream, Out>): boolean {
  if (out.stdout === out.stderr) return true;
  const { fd: a } = out.stdout;
  const { fd: b } = out.stderr;
  if (a === undefined || b === undefined) return false;
  try {
    const [x, y] = [fstatSync(a), fstatSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return true;
  }
}

export class LogPrinter {
  /** The job and stream whose line is unfinished, by where it goes: 'stdout' alone when the streams share a place. */
  private readonly open = new Map<Stream, { jobId: string; stream: Stream }>();

  constructor(
    private readonly out: Record<Stream, Out> = { stdout: process.stdout, stderr: process.stderr },
    private readonly shared = sharedOutput(out),
  ) {}

  /**
   * Where `stream`'s bytes are written: stdout for both when they share a place. process.stdout
   * and process.stderr queue what a slow reader has not taken each on its own, so a stderr line
   * written while stdout's queue waits went ahead of it, into the middle of a stdout line.
   */
  private to(stream: Stream): Out {
    return this.shared ? this.out.stdout : this.out[stream];
  }

  print(lines: readonly OutputLine[], jobs: readonly JobRecord[]): void {
    const prefix = jobPrefixes(jobs, (text, i) => COLORS[i % COLORS.length]!(text));
    // Consecutive lines of one stream are written together, as the bytes the job wrote.
    let chunk: Buffer[] = [];
    let stream: Stream = 'stdout';
    const flush = () => {
      if (chunk.length === 0) return;
      const out = this.to(stream);
      if (out.cork && out.uncork) {
        // Corked, the pieces go out in one writev (a pipe, a terminal) or one write each (a
        // file): never copied into one buffer first, which for a long log was a copy of all of it.
        out.cork();
        for (const piece of chunk) out.write(piece);
        out.uncork();
      } else out.write(chunk.length === 1 ? chunk[0]! : Buffer.concat(chunk));
      chunk = [];
    };
    for (const line of lines) {
      const place: Stream = this.shared ? 'stdout' : line.stream;
      const open = this.open.get(place);
      const continues = open?.jobId === line.jobId && open.stream === line.stream;
      if (open && !continues) {
        // Another job, or the other stream on a shared terminal, interrupts an unfinished
        // line: end it here; it goes on (under its prefix) on a line of its own later.
        if (open.stream !== stream) flush();
        stream = open.stream;
        chunk.push(NEWLINE);
        this.open.delete(place);
      }
      if (line.stream !== stream) flush();
      stream = line.stream;
      const lead = prefix.get(line.jobId);
      if (!continues && lead) chunk.push(lead);
      if (lead) prefixed(line.bytes, lead, chunk);
      else chunk.push(line.bytes);
      if (line.partial) this.open.set(place, { jobId: line.jobId, stream: line.stream });
      else {
        chunk.push(NEWLINE);
        this.open.delete(place);
      }
    }
    flush();
  }

  /**
   * Resolves once the outputs have taken what was printed (undefined when they have): Node
   * queues what a pipe or terminal cannot take yet, so a reader that waits for this before
   * it prints more holds a slow reader's share (`dstack logs JOB | less`) to a batch or two,
   * not the whole log.
   */
  drained(): Promise<void> | undefined {
    const waiting = Object.values(this.out).filter((out) => out.writableNeedDrain && out.once);
    if (waiting.length === 0) return undefined;
    return Promise.all(waiting.map((out) => once(out as Writable, 'drain'))).then(() => {});
  }

  /** End each unfinished last line (the job's output ended without a newline). */
  end(): void {
    for (const { stream } of this.open.values()) this.to(stream).write('\n');
    this.open.clear();
  }
}
