/**
 * Job logs on local disk: one JSON line per entry (seq, ts, stream, text: the lines the
 * runner read at one time, joined by '\n'), per job, in sequence order, with a sparse index beside it (log-index.ts) so that reads from a
 * sequence number or a time start in the right place. Appends are idempotent by sequence
 * number (a runner that re-sends after a network fault doubles nothing), readers only
 * ever see whole appends, every read streams (memory does not grow with the log), and
 * followers are woken when lines arrive.
 */
import { EventEmitter } from 'node:events';
import { appendFile, mkdir, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidError } from '../../core/errors.js';
import type { LogEntry } from '../../core/records.js';
import { AppendHandles } from './append-handles.js';
import { logLine } from './log-line.js';
import { scan, scanRaw, type RawEntry } from './log-scan.js';
import {
  encodePoints,
  INDEX_RECORD_BYTES,
  lastPoint,
  pointForSeq,
  pointForTime,
  type IndexPoint,
} from './log-index.js';

const JOB_ID = /^[0-9a-f]{12}$/;
/** An index point every this many entries or bytes, whichever comes first. */
const INDEX_EVERY_ENTRIES = 1000;
const INDEX_EVERY_BYTES = 256 << 10;
/** A follower's read takes about this much of the log at a time. */
const FOLLOW_WINDOW = 1 << 20;

export interface LogQuery {
  /** Only entries at or after this time (epoch ms). */
  since?: number;
  /** Only entries with a greater sequence number. */
  afterSeq?: number;
}

/** What is known of a job's log once it has been opened: kept up to date by appends. */
interface LogState {
  /** Bytes of whole appends: readers never go past this. */
  size: number;
  lastSeq: number;
  maxTs: number;
  entriesSinceIndex: number;
  bytesSinceIndex: number;
}

/** Size of an entry for paging limits: what it costs to hold and send (an entry may hold many lines). */
export const entryBytes = (e: RawEntry) => e.json.length + 32;

/** Append `parts` through `handle` in one write of all of them (no copy into one buffer first). */
async function appendParts(handle: FileHandle, parts: Buffer[]): Promise<void> {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const { bytesWritten } = await handle.writev(parts);
  if (bytesWritten !== length) throw new Error(`log append wrote ${bytesWritten} of ${length} bytes`);
}

export class LogStore {
  private readonly states = new Map<string, Promise<LogState>>();
  private readonly events = new EventEmitter();
  /** Appends per job are serialised so that concurrent batches keep their order. */
  private readonly queues = new Map<string, Promise<void>>();
  /** The logs folder, created by the first append (not one mkdir per append). */
  private rootMade: Promise<unknown> | undefined;
  private readonly handles = new AppendHandles();

  constructor(private readonly root: string) {
    this.events.setMaxListeners(0);
  }

  private file(jobId: string): string {
    if (!JOB_ID.test(jobId)) throw new InvalidError(`not a job id: '${jobId}'`);
    return join(this.root, `${jobId}.jsonl`);
  }

  private indexFile(jobId: string): string {
    return join(this.root, `${jobId}.idx`);
  }

  private state(jobId: string): Promise<LogState> {
    let state = this.states.get(jobId);
    if (!state) {
      state = this.load(jobId);
      this.states.set(jobId, state);
      state.catch(() => this.states.delete(jobId));
    }
    return state;
  }

  /**
   * Open a log: from its last index point, scan to the end (at most one index interval).
   * A torn last line (the server died mid-append) is cut off; the runner sends it again.
   */
  private async load(jobId: string): Promise<LogState> {
    const file = this.file(jobId);
    const index = this.indexFile(jobId);
    const size = await stat(file).then(
      (s) => s.size,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return 0;
        throw e;
      },
    );
    const { point, valid } = await lastPoint(index, size);
    await truncate(index, valid * INDEX_RECORD_BYTES).catch(() => {});
    const state: LogState = {
      size: point.offset,
      lastSeq: point.seq - 1,
      maxTs: point.maxTsBefore,
      entriesSinceIndex: 0,
      bytesSinceIndex: 0,
    };
    // Points the index lacks (a log written before there were indexes, or a crash between the
    // two appends) are added on the way, by the same rule as appends.
    const missing: IndexPoint[] = [];
    try {
      for await (const { entries, ends } of scan(file, point.offset, size)) {
        entries.forEach((entry, i) => {
          if (state.entriesSinceIndex >= INDEX_EVERY_ENTRIES || state.bytesSinceIndex >= INDEX_EVERY_BYTES) {
            missing.push({ seq: entry.seq, offset: state.size, maxTsBefore: state.maxTs });
            state.entriesSinceIndex = 0;
            state.bytesSinceIndex = 0;
          }
          state.bytesSinceIndex += ends[i]! - state.size;
          state.size = ends[i]!;
          state.lastSeq = entry.seq;
          state.maxTs = Math.max(state.maxTs, entry.ts);
          state.entriesSinceIndex++;
        });
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (state.size < size) {
      await truncate(file, state.size);
      if (state.size === point.offset && point.offset > 0) return this.load(jobId); // the point itself was torn
    }
    if (missing.length > 0) await appendFile(index, encodePoints(missing));
    return state;
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
    const state = await this.state(jobId);
    let last = state.lastSeq;
    const fresh: LogEntry[] = [];
    const ordered = entries.every((e, i) => i === 0 || e.seq > entries[i - 1]!.seq)
      ? entries
      : [...entries].sort((a, b) => a.seq - b.seq);
    for (const e of ordered) {
      if (e.seq <= last) continue; // already stored: a re-send
      if (e.seq !== last + 1) throw new InvalidError(`log entry ${e.seq} of job ${jobId} leaves a gap after ${last}`);
      fresh.push(e);
      last = e.seq;
    }
    if (fresh.length === 0) return last;
    const next = { ...state };
    const points: IndexPoint[] = [];
    const lines: Buffer[] = [];
    for (const e of fresh) {
      if (next.entriesSinceIndex >= INDEX_EVERY_ENTRIES || next.bytesSinceIndex >= INDEX_EVERY_BYTES) {
        points.push({ seq: e.seq, offset: next.size, maxTsBefore: next.maxTs });
        next.entriesSinceIndex = 0;
        next.bytesSinceIndex = 0;
      }
      // Encoded here, once: the byte length comes with it (no second pass to measure the text).
      const line = Buffer.from(logLine(e));
      lines.push(line);
      next.size += line.length;
      next.bytesSinceIndex += line.length;
      next.entriesSinceIndex++;
      next.maxTs = Math.max(next.maxTs, e.ts);
    }
    next.lastSeq = last;
    try {
      await (this.rootMade ??= mkdir(this.root, { recursive: true }));
      await this.handles.use(this.file(jobId), (handle) => appendParts(handle, lines));
      // After the log: an index point never names bytes that are not there.
      if (points.length > 0) await appendFile(this.indexFile(jobId), encodePoints(points));
    } catch (e) {
      this.rootMade = undefined; // the folder may have gone: make it again next time
      this.states.delete(jobId); // reopen (and cut any torn line) at the next use
      throw e;
    }
    Object.assign(state, next);
    this.events.emit(jobId);
    return last;
  }

  async lastSequence(jobId: string): Promise<number> {
    return (await this.state(jobId)).lastSeq;
  }

  /** Where reading should start for `query`: a byte offset at or before the first matching entry. */
  private async startOffset(jobId: string, query: LogQuery): Promise<number> {
    const index = this.indexFile(jobId);
    const bySeq = query.afterSeq ? (await pointForSeq(index, query.afterSeq)).offset : 0;
    const byTime = query.since !== undefined ? (await pointForTime(index, query.since)).offset : 0;
    return Math.max(bySeq, byTime);
  }

  /** The entries matching `query`, in sequence order, streamed from disk a chunk at a time. */
  async *batches(jobId: string, query: LogQuery = {}): AsyncGenerator<LogEntry[]> {
    const { size } = await this.state(jobId);
    if (size === 0) return;
    const start = await this.startOffset(jobId, query);
    for await (const { entries } of scan(this.file(jobId), start, size)) {
      const matching = entries.filter(
        (e) =>
          (query.afterSeq === undefined || e.seq > query.afterSeq) &&
          (query.since === undefined || e.ts >= query.since),
      );
      if (matching.length > 0) yield matching;
    }
  }

  /** The entries matching `query`, in sequence order, streamed from disk. */
  async *entries(jobId: string, query: LogQuery = {}): AsyncGenerator<LogEntry> {
    for await (const batch of this.batches(jobId, query)) yield* batch;
  }

  /**
   * Up to `maxEntries` entries (or about `maxBytes`) matching `query`, as their stored JSON
   * bytes (a page is sent on without parsing and serialising its text); `done` when the
   * log's end was reached.
   */
  async page(
    jobId: string,
    query: LogQuery,
    limits: { maxEntries: number; maxBytes: number },
  ): Promise<{ entries: RawEntry[]; done: boolean }> {
    const entries: RawEntry[] = [];
    let bytes = 0;
    const { size: end } = await this.state(jobId);
    if (end === 0) return { entries, done: true };
    const start = await this.startOffset(jobId, query);
    for await (const chunk of scanRaw(this.file(jobId), start, end)) {
      for (const entry of chunk.entries) {
        if (query.afterSeq !== undefined && entry.seq <= query.afterSeq) continue;
        if (query.since !== undefined && entry.ts < query.since) continue;
        const size = entryBytes(entry);
        if (entries.length >= limits.maxEntries || (entries.length > 0 && bytes + size > limits.maxBytes)) {
          return { entries, done: false };
        }
        entries.push(entry);
        bytes += size;
      }
    }
    return { entries, done: true };
  }

  /** The byte offset just past entry `seq` (0 for seq 0): where a follower that has it goes on. */
  async offsetAfter(jobId: string, seq: number): Promise<number> {
    if (seq <= 0) return 0;
    const { size } = await this.state(jobId);
    const point = await pointForSeq(this.indexFile(jobId), seq);
    let offset = Math.min(point.offset, size);
    for await (const { entries, ends } of scan(this.file(jobId), offset, size)) {
      for (let i = 0; i < entries.length; i++) {
        if (entries[i]!.seq > seq) return offset;
        offset = ends[i]!;
      }
    }
    return offset;
  }

  /** A byte offset at or before the first entry at or after `since`. */
  async offsetForTime(jobId: string, since: number): Promise<number> {
    return this.startOffset(jobId, { since });
  }

  /**
   * Entries from byte `offset` on, about a megabyte at a time, and the offset to continue
   * from: a follower reads each line once, however long the log grows. `more` when the
   * log holds more than was read. Entries come as their stored JSON bytes: a follower
   * forwards them without parsing and serialising the text again.
   */
  async readFrom(jobId: string, offset: number): Promise<{ entries: RawEntry[]; offset: number; more: boolean }> {
    const { size } = await this.state(jobId);
    const entries: RawEntry[] = [];
    let at = offset;
    if (offset >= size) return { entries, offset, more: false };
    for await (const chunk of scanRaw(this.file(jobId), offset, size)) {
      for (const e of chunk.entries) entries.push(e);
      at = chunk.end;
      if (at - offset >= FOLLOW_WINDOW) break;
    }
    return { entries, offset: at, more: at < size };
  }

  async delete(jobId: string): Promise<void> {
    await this.handles.close(this.file(jobId));
    await rm(this.file(jobId), { force: true });
    await rm(this.indexFile(jobId), { force: true });
    this.states.delete(jobId);
  }

  /** Call `listener` whenever lines for the job arrive; returns the unsubscribe function. */
  subscribe(jobId: string, listener: () => void): () => void {
    this.events.on(jobId, listener);
    return () => this.events.off(jobId, listener);
  }
}
