/**
 * Ships a job's output to the server as numbered entries. Output is split into lines per
 * stream, and the whole lines read at one time go as one entry (text joined by '\n', up to
 * MAX_LINE bytes an entry); a line that goes a second without its newline (a `\r` progress
 * bar, a prompt) is sent as a partial entry, continued by the next one, and so is a very
 * long line.
 * Bytes that are not UTF-8 travel exactly (base64 in `raw`). Batches go out every
 * `intervalMs`, back to back while output outpaces them; a failed send is retried with
 * the same sequence numbers, so the server keeps every entry once; a batch the server refuses
 * for good (log-spool.ts: isRefusedForGood) is dropped, said through `onError`. With a spool file,
 * entries are written there as soon as they are read, unfinished lines too, and forgotten once
 * the server has them: a runner that crashed sends what is left with `resendSpool` when it starts
 * again. Entries the spool cannot take (a full disk) are sent all the same (log-spool-writer.ts).
 */
import { isUtf8 } from 'node:buffer';
import { printable } from '../core/printable.js';
import { UnauthorizedError } from '../core/errors.js';
import type { LogEntry } from '../core/records.js';
import { isRefusedForGood, LogsRefused, type SendLogs, type UnfinishedLine } from './log-spool.js';
import { LogSpoolWriter } from './log-spool-writer.js';

export { LogsRefused, resendSpool, type SendLogs } from './log-spool.js';

type Stream = LogEntry['stream'];

/**
 * A line longer than this many bytes is cut into partial entries so that memory stays
 * bounded; whole lines are grouped into entries of at most this many bytes.
 */
export const MAX_LINE = 64 * 1024;
/** Output without a newline for this long is sent as a partial entry. */
export const PARTIAL_AFTER_MS = 1000;
/** A batch holds at most this many entries and about this many bytes. */
const BATCH_ENTRIES = 20_000;
const BATCH_BYTES = 1 << 20;
/**
 * Output queued past this many bytes (sends lag behind a chatty job: a slow network, a busy
 * server) stops the reading of the job's output until the queue is down to the low mark: the
 * job waits on its writes, and the runner's memory stays bounded.
 */
export const QUEUE_HIGH_BYTES = 32 << 20;
const QUEUE_LOW_BYTES = 8 << 20;

/** Where to cut `data` at or before `max` without splitting a UTF-8 character. */
function charBoundary(data: Buffer, max: number): number {
  if (max >= data.length) {
    // At the end: hold back a character whose last bytes have not arrived yet.
    for (let i = data.length - 1; i >= Math.max(0, data.length - 4); i--) {
      const byte = data[i]!;
      if ((byte & 0xc0) === 0x80) continue; // continuation byte
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return i + length > data.length ? i : data.length;
    }
    return data.length;
  }
  let cut = max;
  while (cut > max - 4 && cut > 0 && (data[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}

/**
 * An entry of whole UTF-8 lines whose text is decoded only when read: the client sends the
 * output bytes, so on the way to the server the text is never needed (decoding it was a
 * pass over all the output, and garbage).
 */
function textEntry(stream: Stream, bytes: Buffer): LogEntry {
  const entry = { seq: 0, ts: 0, stream } as LogEntry;
  let text: string | undefined;
  Object.defineProperty(entry, 'text', {
    get: () => (text ??= bytes.toString('utf8')),
    enumerable: true,
    configurable: true,
  });
  return entry;
}

export class LogShipper {
  private seq: number;
  private readonly queue: LogEntry[] = [];
  private queuedBytes = 0;
  private readonly pending: Record<Stream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private timer: NodeJS.Timeout | undefined;
  private timerDelay = 0;
  private partialTimer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private failures = 0;
  /** How many of the queued entries (from the front) were given to the spool already. */
  private spooled = 0;
  /** The output bytes of each queued entry (output[i] of queue[i]): what is sent and spooled, with no JSON of the text. */
  private readonly output: Buffer[] = [];
  private readonly spool: LogSpoolWriter | undefined;
  /** The time of the output being split into lines; undefined outside `write`. */
  private now: number | undefined;
  /**
   * The server refused this runner's token (the runner was deleted, its token replaced): no send
   * is tried again, and `close` throws it at once. What is queued stays in the spool.
   */
  private refused: UnauthorizedError | undefined;

  constructor(
    private readonly send: SendLogs,
    lastSeq: number,
    private readonly intervalMs = 200,
    private readonly onError: (error: unknown) => void = () => {},
    /** A file the entries go to before they are sent (records of log-spool.ts); none: memory only. */
    spool?: string,
    private readonly partialAfterMs = PARTIAL_AFTER_MS,
  ) {
    this.seq = lastSeq;
    if (spool !== undefined) this.spool = new LogSpoolWriter(spool, () => this.unfinished(), onError);
  }

  /** Waiting for the queue to go down to the low mark (see QUEUE_HIGH_BYTES). */
  private readonly drainWaiters: (() => void)[] = [];

  /** Raw output of the job's process. False: read no more of it until `whenDrained` calls back. */
  write(stream: Stream, chunk: Buffer): boolean {
    this.now = Date.now(); // one time for the lines of one chunk: they arrived together
    let data = chunk;
    const pending = this.pending[stream];
    if (pending.length > 0) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) data = Buffer.concat([pending, chunk]);
      else {
        // The unfinished line ends in this chunk: it goes as an entry of its own, so that the
        // chunk's other lines are not copied behind it (a copy of all the output otherwise).
        this.pushLines(stream, Buffer.concat([pending, chunk.subarray(0, nl)]));
        data = chunk.subarray(nl + 1);
      }
    }
    const last = data.lastIndexOf(0x0a);
    if (last >= 0) {
      this.pushLines(stream, data.subarray(0, last));
      data = data.subarray(last + 1);
    }
    while (data.length > MAX_LINE) {
      const cut = charBoundary(data, MAX_LINE);
      this.push(stream, data.subarray(0, cut), true);
      data = data.subarray(cut);
    }
    this.now = undefined;
    this.pending[stream] = Buffer.from(data); // a copy: do not keep the whole chunk alive for its tail
    if (data.length > 0 && !this.partialTimer) {
      this.partialTimer = setTimeout(() => this.flushPartials(), this.partialAfterMs);
    }
    this.spoolNow(chunk.length > 0);
    this.schedule();
    return this.queuedBytes < QUEUE_HIGH_BYTES;
  }

  /** Call `resume` once the queue is down to the low mark (at once if it is). */
  whenDrained(resume: () => void): void {
    if (this.queuedBytes <= QUEUE_LOW_BYTES) resume();
    else this.drainWaiters.push(resume);
  }

  /** Bytes of output queued, not yet acknowledged by the server. */
  get queued(): number {
    return this.queuedBytes;
  }

  /** A line from dstack itself (download progress, errors), shown in the job's log. */
  note(text: string, stream: Stream = 'stderr'): void {
    // Notes name the job's files and links, and quote its errors: shown printable, on one line.
    const line = `[dstack] ${printable(text)}`;
    this.queueEntry({ seq: 0, ts: 0, stream, text: line }, Buffer.from(line));
    this.spoolNow();
    this.schedule();
  }

  /** Whole lines (`region` holds them without the last newline). */
  private pushLines(stream: Stream, region: Buffer): void {
    if (isUtf8(region)) {
      // The common case: the lines read at one time go as one entry (cut at line ends past
      // MAX_LINE), not one entry each: each entry is serialised and parsed about six times on
      // its way to a reader, which per 100-byte line cost 38x the job's own time. A newline byte
      // never occurs inside a UTF-8 character, so every cut at a newline is valid text.
      let start = 0;
      while (region.length - start > MAX_LINE) {
        const nl = region.lastIndexOf(0x0a, start + MAX_LINE);
        if (nl >= start) {
          this.queueEntry(textEntry(stream, region.subarray(start, nl)), region.subarray(start, nl));
          start = nl + 1;
          continue;
        }
        // The first line alone is longer than MAX_LINE: partial pieces, as a line split across reads.
        const end = region.indexOf(0x0a, start);
        this.pushLine(stream, region.subarray(start, end < 0 ? region.length : end), false);
        if (end < 0) return;
        start = end + 1;
      }
      this.queueEntry(textEntry(stream, region.subarray(start)), region.subarray(start));
      return;
    }
    // Not UTF-8: one entry per line, so that `raw` (exact bytes) stays with the one line that needs it.
    let start = 0;
    for (let nl = region.indexOf(0x0a); nl >= 0; nl = region.indexOf(0x0a, start)) {
      this.pushLine(stream, region.subarray(start, nl), false);
      start = nl + 1;
    }
    this.pushLine(stream, region.subarray(start), false);
  }

  /** A whole line may still be longer than MAX_LINE when it arrived in one chunk: cut it into pieces. */
  private pushLine(stream: Stream, line: Buffer, partial: boolean): void {
    while (line.length > MAX_LINE) {
      const cut = charBoundary(line, MAX_LINE);
      this.push(stream, line.subarray(0, cut), true);
      line = line.subarray(cut);
    }
    this.push(stream, line, partial);
  }

  private push(stream: Stream, bytes: Buffer, partial: boolean): void {
    const entry: LogEntry = { seq: 0, ts: 0, stream, text: bytes.toString('utf8') };
    if (partial) entry.partial = true;
    if (!isUtf8(bytes)) entry.raw = bytes.toString('base64');
    this.queueEntry(entry, bytes);
  }

  /** `bytes`: the output the entry stands for (its text as UTF-8, or the raw bytes). */
  private queueEntry(entry: LogEntry, bytes: Buffer): void {
    this.output.push(bytes);
    entry.seq = ++this.seq;
    entry.ts = this.now ?? Date.now();
    this.queue.push(entry);
    this.queuedBytes += bytes.length;
  }

  /** Send what has waited a while without a newline, as partial entries. */
  private flushPartials(): void {
    this.partialTimer = undefined;
    for (const stream of ['stdout', 'stderr'] as const) {
      const data = this.pending[stream];
      const cut = charBoundary(data, data.length);
      if (cut === 0) continue;
      this.push(stream, data.subarray(0, cut), true);
      this.pending[stream] = Buffer.from(data.subarray(cut));
    }
    this.spoolNow();
    this.schedule();
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.refused) return;
    // A full batch goes at once: output faster than one batch per interval is not held back.
    const full = this.queue.length >= BATCH_ENTRIES || this.queuedBytes >= BATCH_BYTES;
    const delay =
      this.failures > 0 ? Math.min(this.intervalMs * 2 ** this.failures, 10_000) : full ? 0 : this.intervalMs;
    if (this.timer) {
      if (delay > 0 || this.timerDelay === 0) return;
      clearTimeout(this.timer); // the batch filled up before its interval ran out
    }
    this.timerDelay = delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => {});
    }, delay);
  }

  /**
   * Send what is queued now; on failure the entries stay queued and are sent again later.
   * `last` sends the batch that empties the queue instead of the usual sender.
   */
  flush(last?: SendLogs): Promise<void> {
    this.sending = this.sending
      .catch(() => {})
      .then(async () => {
        if (this.refused) throw this.refused;
        if (this.queue.length === 0) return;
        let count = 0;
        let bytes = 0;
        while (count < this.queue.length && count < BATCH_ENTRIES && (count === 0 || bytes < BATCH_BYTES)) {
          bytes += this.output[count++]!.length;
        }
        const batch = this.queue.slice(0, count);
        this.spoolNow(); // whether the disk takes them or not, they are sent
        try {
          const send = last !== undefined && count === this.queue.length ? last : this.send;
          try {
            await send(batch, this.output.slice(0, count));
          } catch (e) {
            if (!isRefusedForGood(e)) throw e;
            // Retried, it would be refused at every try and hold the job (and its close) forever.
            this.onError(new LogsRefused(batch, e));
          }
          this.queue.splice(0, batch.length);
          this.output.splice(0, batch.length);
          this.spooled -= batch.length;
          this.queuedBytes -= bytes;
          this.failures = 0;
          if (this.queuedBytes <= QUEUE_LOW_BYTES) for (const resume of this.drainWaiters.splice(0)) resume();
          this.spool?.acknowledged(batch.length);
        } catch (e) {
          if (e instanceof UnauthorizedError) this.refused = e;
          this.failures++;
          this.onError(e);
          throw e;
        } finally {
          this.schedule();
        }
      });
    return this.sending;
  }

  /**
   * Give the spool the queued entries it has not had, in order, with the unfinished lines after
   * them; `unfinished`: those lines changed (they are spooled even when no entry came with them).
   */
  private spoolNow(unfinished = false): void {
    if (!this.spool) return;
    if (this.spooled < this.queue.length) {
      this.spool.add({ entries: this.queue.slice(this.spooled), bytes: this.output.slice(this.spooled) });
      this.spooled = this.queue.length;
    } else if (unfinished) this.spool.unfinishedChanged();
  }

  /** The unfinished lines, numbered as the partial entries they would be sent as now. */
  private unfinished(): UnfinishedLine[] {
    const lines: UnfinishedLine[] = [];
    let seq = this.seq;
    for (const stream of ['stdout', 'stderr'] as const) {
      const bytes = this.pending[stream];
      if (bytes.length > 0) lines.push({ seq: ++seq, stream, bytes });
    }
    return lines;
  }

  /**
   * Send what is left of unfinished lines and everything queued; retries until sent or
   * `timeoutMs` passes (or the server refuses the runner's token). `last`, when given, sends
   * the final batch (a job's last output with its final status); with nothing left, it is not called.
   */
  async close(timeoutMs = 5 * 60_000, last?: SendLogs): Promise<void> {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream].length > 0) this.push(stream, this.pending[stream], false);
      this.pending[stream] = Buffer.alloc(0);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + timeoutMs;
    try {
      while (this.queue.length > 0) {
        try {
          await this.flush(last);
        } catch (e) {
          if (this.refused || Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, Math.min(1000 * this.failures, 5000)));
        }
      }
    } finally {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.spool?.close(); // what it holds stays on disk for resendSpool
    }
  }
}
