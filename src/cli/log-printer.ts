/**
 * Printing log entries as the job wrote them: stdout lines to stdout, stderr lines to stderr,
 * a partial entry continued by the next one of its stream (so `\r` progress bars redraw in
 * place), binary output as its exact bytes, and a workflow prefix on every line when several
 * jobs share the terminal. An entry's text may hold several lines (joined by '\n').
 */
import pc from 'picocolors';
import type { LogLine } from '../core/api.js';
import type { JobRecord } from '../core/records.js';

const COLORS = [pc.cyan, pc.magenta, pc.yellow, pc.blue, pc.green];

type Out = Pick<NodeJS.WriteStream, 'write'>;

export class LogPrinter {
  /** The job and stream whose line is unfinished on the terminal, if any. */
  private open: { jobId: string; stream: LogLine['stream'] } | undefined;

  constructor(
    private readonly out: Record<LogLine['stream'], Out> = { stdout: process.stdout, stderr: process.stderr },
  ) {}

  print(lines: readonly LogLine[], jobs: readonly JobRecord[]): void {
    const prefix = new Map<string, string>();
    if (jobs.length > 1) {
      const width = Math.max(...jobs.map((j) => j.ref.length));
      jobs.forEach((j, i) => prefix.set(j.id, COLORS[i % COLORS.length]!(`${j.ref.padEnd(width)} | `)));
    }
    // Consecutive lines of one stream are written together; text stays text (cheap), only binary lines are bytes.
    let chunk: (string | Buffer)[] = [];
    let binary = false;
    let stream: LogLine['stream'] = 'stdout';
    const flush = () => {
      if (chunk.length === 0) return;
      this.out[stream].write(
        binary ? Buffer.concat(chunk.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))) : chunk.join(''),
      );
      chunk = [];
      binary = false;
    };
    for (const line of lines) {
      const continues = this.open?.jobId === line.jobId && this.open.stream === line.stream;
      if (this.open && !continues) {
        // Another job or stream interrupts an unfinished line: end it here; it goes on under its prefix later.
        if (this.open.stream !== stream) flush();
        stream = this.open.stream;
        chunk.push('\n');
        this.open = undefined;
      }
      if (line.stream !== stream) flush();
      stream = line.stream;
      const lead = prefix.get(line.jobId);
      if (!continues && lead) chunk.push(lead);
      if (line.raw) {
        chunk.push(Buffer.from(line.raw, 'base64'));
        binary = true;
      } else chunk.push(lead ? line.text.replaceAll('\n', '\n' + lead) : line.text);
      if (line.partial) this.open = { jobId: line.jobId, stream: line.stream };
      else {
        chunk.push('\n');
        this.open = undefined;
      }
    }
    flush();
  }

  /** End an unfinished last line (the job's output ended without a newline). */
  end(): void {
    if (this.open) this.out[this.open.stream].write('\n');
    this.open = undefined;
  }
}
