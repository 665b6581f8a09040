/**
 * Job logs on local disk: one JSON line per log entry, per job. Appends are idempotent
 * by sequence number (a runner that re-sends after a network fault doubles nothing),
 * and followers are woken when lines arrive.
 */
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidError } from '../../core/errors.js';
import type { LogEntry } from '../../core/records.js';

const JOB_ID = /^[0-9a-f]{12}$/;

export interface LogQuery {
  /** Only entries at or after this time (epoch ms). */
  since?: number;
  /** Only entries with a greater sequence number. */
  afterSeq?: number;
}

export class LogStore {
  private readonly lastSeq = new Map<string, number>();
  private readonly events = new EventEmitter();
  /** Appends per job are serialised so that concurrent batches keep their order. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly root: string) {
    this.events.setMaxListeners(0);
  }

  private file(jobId: string): string {
    if (!JOB_ID.test(jobId)) throw new InvalidError(`not a job id: '${jobId}'`);
    return join(this.root, `${jobId}.jsonl`);
  }

  /** Append entries, keeping only those past the last stored sequence number. Returns the last seq. */
  append(jobId: string, entries: readonly LogEntry[]): Promise<number> {
    const previous = this.queues.get(jobId) ?? Promise.resolve();
    const result = previous.then(() => this.appendNow(jobId, entries));
    this.queues.set(
      jobId,
      result.then(
        () => undefined,
        () => undefined,
      ),
    );
    return result;
  }

  private async appendNow(jobId: string, entries: readonly LogEntry[]): Promise<number> {
    let last = await this.lastSequence(jobId);
    const fresh: LogEntry[] = [];
    for (const e of [...entries].sort((a, b) => a.seq - b.seq)) {
      if (e.seq <= last) continue; // already stored: a re-send
      if (e.seq !== last + 1) throw new InvalidError(`log entry ${e.seq} of job ${jobId} leaves a gap after ${last}`);
      fresh.push(e);
      last = e.seq;
    }
    if (fresh.length > 0) {
      await mkdir(this.root, { recursive: true });
      await appendFile(this.file(jobId), fresh.map((e) => JSON.stringify(e) + '\n').join(''));
      this.lastSeq.set(jobId, last);
      this.events.emit(jobId);
    }
    return last;
  }

  async lastSequence(jobId: string): Promise<number> {
    const known = this.lastSeq.get(jobId);
    if (known !== undefined) return known;
    let last = 0;
    try {
      const text = await readFile(this.file(jobId), 'utf8');
      const lines = text.trimEnd().split('\n');
      const tail = lines[lines.length - 1];
      if (tail) last = (JSON.parse(tail) as LogEntry).seq;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.lastSeq.set(jobId, last);
    return last;
  }

  /**
   * Entries stored from byte `offset` on, and the offset to continue from: a follower reads
   * each line once, however long the log grows.
   */
  async readFrom(jobId: string, offset: number): Promise<{ entries: LogEntry[]; offset: number }> {
    let handle;
    try {
      handle = await open(this.file(jobId), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], offset };
      throw e;
    }
    try {
      const { size } = await handle.stat();
      if (size <= offset) return { entries: [], offset };
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      const end = buffer.lastIndexOf(0x0a) + 1; // only whole lines: an append may be under way
      const entries = buffer
        .subarray(0, end)
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as LogEntry);
      return { entries, offset: offset + end };
    } finally {
      await handle.close();
    }
  }

  async read(jobId: string, query: LogQuery = {}): Promise<LogEntry[]> {
    const file = this.file(jobId);
    try {
      await stat(file);
    } catch {
      return [];
    }
    const out: LogEntry[] = [];
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line) continue;
      const entry = JSON.parse(line) as LogEntry;
      if (query.afterSeq !== undefined && entry.seq <= query.afterSeq) continue;
      if (query.since !== undefined && entry.ts < query.since) continue;
      out.push(entry);
    }
    return out;
  }

  async delete(jobId: string): Promise<void> {
    await rm(this.file(jobId), { force: true });
    this.lastSeq.delete(jobId);
  }

  /** Call `listener` whenever lines for the job arrive; returns the unsubscribe function. */
  subscribe(jobId: string, listener: () => void): () => void {
    this.events.on(jobId, listener);
    return () => this.events.off(jobId, listener);
  }
}
