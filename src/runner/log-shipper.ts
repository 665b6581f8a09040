/**
 * Ships a job's output to the server as numbered lines. Output is split into lines per
 * stream; batches go out every `intervalMs`; a failed send is retried with the same
 * sequence numbers, so the server keeps every line once.
 */
import type { LogEntry } from '../core/records.js';

export type SendLogs = (entries: LogEntry[]) => Promise<unknown>;

/** A line longer than this is cut into pieces so that memory stays bounded. */
const MAX_LINE = 64 * 1024;

export class LogShipper {
  private seq: number;
  private readonly queue: LogEntry[] = [];
  private readonly partial: Record<LogEntry['stream'], string> = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(
    private readonly send: SendLogs,
    lastSeq: number,
    private readonly intervalMs = 200,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.seq = lastSeq;
  }

  /** Raw output of the job's process. */
  write(stream: LogEntry['stream'], chunk: Buffer): void {
    let text = this.partial[stream] + this.decoders[stream].decode(chunk, { stream: true });
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      this.push(stream, text.slice(0, nl));
      text = text.slice(nl + 1);
    }
    while (text.length > MAX_LINE) {
      this.push(stream, text.slice(0, MAX_LINE));
      text = text.slice(MAX_LINE);
    }
    this.partial[stream] = text;
    this.schedule();
  }

  /** A line from dstack itself (download progress, errors), shown in the job's log. */
  note(text: string, stream: LogEntry['stream'] = 'stderr'): void {
    this.push(stream, `[dstack] ${text}`);
    this.schedule();
  }

  private push(stream: LogEntry['stream'], text: string): void {
    this.queue.push({ seq: ++this.seq, ts: Date.now(), stream, text });
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const delay = Math.min(this.intervalMs * 2 ** this.failures, 10_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => {});
    }, delay);
  }

  /** Send what is queued now; on failure the lines stay queued and are sent again later. */
  flush(): Promise<void> {
    this.sending = this.sending
      .catch(() => {})
      .then(async () => {
        if (this.queue.length === 0) return;
        const batch = this.queue.slice(0, 5000);
        try {
          await this.send(batch);
          this.queue.splice(0, batch.length);
          this.failures = 0;
        } catch (e) {
          this.failures++;
          this.onError(e);
          throw e;
        } finally {
          this.schedule();
        }
      });
    return this.sending;
  }

  /** Flush partial lines and everything queued; retries until sent or `timeoutMs` passes. */
  async close(timeoutMs = 5 * 60_000): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream] + this.decoders[stream].decode();
      if (rest) this.push(stream, rest);
      this.partial[stream] = '';
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0) {
      try {
        await this.flush();
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, Math.min(1000 * this.failures, 5000)));
      }
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
