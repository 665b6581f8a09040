/**
 * Job logs on local disk: per job, a file of log batches (core/log-batch.ts), one per append,
 * each the entries' fields as a JSON line then their output bytes as the job wrote them, in
 * sequence order, with a sparse index beside it (log-index.ts) so that reads from a sequence
 * number or a time start in the right place. Storing the output as bytes costs a copy: no
 * JSON of the text on the way in, none on the way out to the CLI (log-frames.ts). Appends
 * are idempotent by sequence number (a runner that re-sends after a network fault doubles
 * nothing), readers only ever see whole appends, every read streams (memory does not grow
 * with the log), and followers are woken when lines arrive.
 */
import { EventEmitter } from 'node:events';
import { renameSync, statSync, truncateSync } from 'node:fs';
import { appendFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidError } from '../../core/errors.js';
import type { OutputEntry } from '../../core/log-batch.js';
import { AppendHandles } from './append-handles.js';
import { advance, freshEntries, indexPoint, planAppend, type LogState } from './log-append.js';
import { records, type LogRecord, type ReadAt } from './log-scan.js';
import { RecentAppends } from './recent-appends.js';
import {
  encodePoints,
  INDEX_RECORD_BYTES,
  lastPoint,
  pointForSeq,
  pointForTime,
  type IndexPoint,
} from './log-index.js';
import { makeFolder } from '../../files/make-folder.js';

const JOB_ID = /^[0-9a-f]{12}$/;
/** A follower's read takes about this much of the log at a time. */
const FOLLOW_WINDOW = 1 << 20;
/**
 * Logs whose state (size, last sequence number) is kept, at most: past it, the one opened
 * first that no append is using is let go, and loaded from its file again when next used.
 * Every job the scheduler assigns opens its log; a long-running server's would otherwise all stay.
 */
const MAX_STATES = 4096;

export interface LogQuery {
  /** Only entries at or after this time (epoch ms). */
  since?: number;
  /** Only entries with a greater sequence number. */
  afterSeq?: number;
}

/**
 * Where logs that are not on this disk may be kept: a finished job's log archived in the blob
 * store (log-archive.ts), fetched the first time this store opens that job's log.
 */
export interface LogArchiveSource {
  /** Write the job's archived log to `into`; false (writing nothing) when it has none. */
  restore(jobId: string, into: string): Promise<boolean>;
}

/** A log's whole appends as they stand: `bytes` of its file, up to entry `lastSeq`. */
export interface SealedLog {
  file: string;
  bytes: number;
  lastSeq: number;
}

/** Size of an entry for paging limits: what it costs to hold and send (an entry may hold many lines). */
export const entryBytes = (e: OutputEntry) => e.bytes.length + 64;

const matches = (e: OutputEntry, query: LogQuery) =>
  (query.afterSeq === undefined || e.seq > query.afterSeq) && (query.since === undefined || e.ts >= query.since);

/** A log's state as it loads, and whether it has (one still loading is never let go). */
interface OpenLog {
  state: Promise<LogState>;
  loaded: boolean;
}

export class LogStore {
  /** Oldest opened first. */
  private readonly states = new Map<string, OpenLog>();
  private readonly events = new EventEmitter();
  /** Appends per job are serialised so that concurrent batches keep their order; a job's entry goes once they are done. */
  private readonly queues = new Map<string, Promise<void>>();
  /** The logs folder, created by the first append (not one mkdir per append). */
  private rootMade: Promise<unknown> | undefined;
  private readonly handles = new AppendHandles();
  private readonly recent = new RecentAppends();

  constructor(
    private readonly root: string,
    private readonly archive?: LogArchiveSource,
  ) {
    this.events.setMaxListeners(0);
  }

  private file(jobId: string): string {
    if (!JOB_ID.test(jobId)) throw new InvalidError(`not a job id: '${jobId}'`);
    return join(this.root, `${jobId}.log`);
  }

  /** Positional reads of a job's log, through the handle its appends keep open. */
  private reader(jobId: string): ReadAt {
    const file = this.file(jobId);
    return (buffer, position) => this.handles.read(file, buffer, position);
  }

  /** The records of a job's log in [start, end). */
  private async *records(jobId: string, start: number, end: number): AsyncGenerator<LogRecord[]> {
    try {
      yield* records(this.file(jobId), this.reader(jobId), start, end);
    } catch (e) {
      // The file is not what this store knows of it (cut or damaged): open it afresh next time.
      this.states.delete(jobId);
      this.recent.drop(jobId);
      throw e;
    }
  }

  private indexFile(jobId: string): string {
    return join(this.root, `${jobId}.idx`);
  }

  private state(jobId: string): Promise<LogState> {
    const open = this.states.get(jobId);
    if (open) return open.state;
    const opening: OpenLog = { state: this.load(jobId), loaded: false };
    this.states.set(jobId, opening);
    opening.state.then(
      () => void (opening.loaded = true),
      () => this.states.get(jobId) === opening && this.states.delete(jobId),
    );
    if (this.states.size > MAX_STATES) this.trimStates();
    return opening.state;
  }

  /**
   * Let go of the states opened first, past MAX_STATES: never one still loading (two loads of
   * a log at once could both mend its index), nor one an append is using (it updates the state
   * it holds: one loaded meanwhile would miss that append).
   */
  private trimStates(): void {
    for (const [jobId, open] of this.states) {
      if (this.states.size <= MAX_STATES) return;
      if (open.loaded && !this.queues.has(jobId)) this.states.delete(jobId);
    }
  }

  /**
   * Open a log: from its last index point, scan to the end (at most one index interval).
   * A torn last append (the server died mid-write) is cut off; the runner sends it again.
   */
  private async load(jobId: string): Promise<LogState> {
    const file = this.file(jobId);
    const index = this.indexFile(jobId);
    // In place, not through libuv's pool (files/raw-fs.ts): every job's first append comes here.
    let size = this.sizeOf(file, jobId);
    if (size === 0 && this.archive && (await this.restore(jobId, file))) size = this.sizeOf(file, jobId);
    const { point, valid, torn } = lastPoint(index, size);
    if (torn) truncateSync(index, valid * INDEX_RECORD_BYTES);
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
      for await (const read of this.records(jobId, point.offset, size)) {
        for (const record of read) {
          const due = indexPoint(state, record.entries[0]!.seq);
          if (due) missing.push(due);
          advance(state, record.entries, record.end);
        }
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

  /**
   * Fetch the job's archived log into place, when this disk has none (a server on a new data
   * folder): its index is rebuilt by the scan that opens it.
   */
  private async restore(jobId: string, file: string): Promise<boolean> {
    if (statSync(file, { throwIfNoEntry: false })) return false; // an empty log of its own
    await (this.rootMade ??= makeFolder(this.root));
    const partial = `${file}.restoring`;
    const restored = await this.archive!.restore(jobId, partial).catch(async (e: unknown) => {
      await rm(partial, { force: true }); // what a fetch cut off wrote
      throw e;
    });
    if (!restored) return false; // nothing written: no trip to remove it (every new job comes here)
    await rm(this.indexFile(jobId), { force: true });
    renameSync(partial, file);
    return true;
  }

  /** The log file's size, 0 when there is none; a log of an older version (`JOB.jsonl`) is renamed first. */
  private sizeOf(file: string, jobId: string): number {
    const size = (path: string) => statSync(path, { throwIfNoEntry: false })?.size;
    const current = size(file);
    if (current !== undefined) return current;
    const older = join(this.root, `${jobId}.jsonl`);
    const legacy = size(older);
    if (legacy === undefined) return 0;
    renameSync(older, file);
    return legacy;
  }

  /** Append entries, keeping only those past the last stored sequence number. Returns the last seq. */
  append(jobId: string, entries: readonly OutputEntry[]): Promise<number> {
    const previous = this.queues.get(jobId) ?? Promise.resolve();
    const result = previous.then(() => this.appendNow(jobId, entries));
    // Once a job's last append is done, its entry goes (kept, there was one for every job that ever logged).
    const done = () => void (this.queues.get(jobId) === settled && this.queues.delete(jobId));
    const settled = result.then(done, done);
    this.queues.set(jobId, settled);
    return result;
  }

  private async appendNow(jobId: string, entries: readonly OutputEntry[]): Promise<number> {
    const state = await this.state(jobId);
    const fresh = freshEntries(jobId, state.lastSeq, entries);
    if (fresh.length === 0) return state.lastSeq;
    const { next, parts, records: written, points } = planAppend(state, fresh);
    try {
      await (this.rootMade ??= makeFolder(this.root));
      // One write of all the parts (no copy into one buffer first).
      this.handles.append(this.file(jobId), parts);
      // After the log: an index point never names bytes that are not there.
      if (points.length > 0) this.handles.append(this.indexFile(jobId), [encodePoints(points)]);
    } catch (e) {
      this.rootMade = undefined; // the folder may have gone: make it again next time
      this.states.delete(jobId); // reopen (and cut any torn record) at the next use
      this.recent.drop(jobId);
      throw e;
    }
    this.recent.add(jobId, written); // before readers can see the new size: a follower finds them here
    Object.assign(state, next);
    this.events.emit(jobId);
    return next.lastSeq;
  }

  /** The job's log as it stands once the appends under way are written, for archiving. */
  async sealed(jobId: string): Promise<SealedLog> {
    await this.queues.get(jobId);
    const { size, lastSeq } = await this.state(jobId);
    return { file: this.file(jobId), bytes: size, lastSeq };
  }

  async lastSequence(jobId: string): Promise<number> {
    return (await this.state(jobId)).lastSeq;
  }

  /** Where reading should start for `query`: a byte offset at or before the first matching entry. */
  private startOffset(jobId: string, query: LogQuery): number {
    const index = this.indexFile(jobId);
    const bySeq = query.afterSeq ? pointForSeq(index, query.afterSeq).offset : 0;
    const byTime = query.since !== undefined ? pointForTime(index, query.since).offset : 0;
    return Math.max(bySeq, byTime);
  }

  /** The entries matching `query`, in sequence order, streamed from disk. */
  async *entries(jobId: string, query: LogQuery = {}): AsyncGenerator<OutputEntry> {
    const { size } = await this.state(jobId);
    if (size === 0) return;
    const start = this.startOffset(jobId, query);
    for await (const read of this.records(jobId, start, size)) {
      for (const record of read) for (const e of record.entries) if (matches(e, query)) yield e;
    }
  }

  /**
   * Up to `maxEntries` entries (or about `maxBytes`) matching `query`; `done` when the log's
   * end was reached.
   */
  async page(
    jobId: string,
    query: LogQuery,
    limits: { maxEntries: number; maxBytes: number },
  ): Promise<{ entries: OutputEntry[]; done: boolean }> {
    const entries: OutputEntry[] = [];
    let bytes = 0;
    for await (const entry of this.entries(jobId, query)) {
      const size = entryBytes(entry);
      if (entries.length >= limits.maxEntries || (entries.length > 0 && bytes + size > limits.maxBytes)) {
        return { entries, done: false };
      }
      entries.push(entry);
      bytes += size;
    }
    return { entries, done: true };
  }

  /** A byte offset at or before the first entry past `seq` (0 for seq 0): where a follower that has it goes on. */
  async offsetAfter(jobId: string, seq: number): Promise<number> {
    if (seq <= 0) return 0;
    const { size } = await this.state(jobId);
    const point = pointForSeq(this.indexFile(jobId), seq);
    for await (const read of this.records(jobId, Math.min(point.offset, size), size)) {
      for (const record of read) if (record.entries[record.entries.length - 1]!.seq > seq) return record.start;
    }
    return size;
  }

  /** A byte offset at or before the first entry at or after `since`. */
  async offsetForTime(jobId: string, since: number): Promise<number> {
    return this.startOffset(jobId, { since });
  }

  /**
   * Entries from byte `offset` on (a record's start), about a megabyte at a time, and the
   * offset to continue from: a follower reads each append once, however long the log grows.
   * `more` when the log holds more than was read.
   */
  async readFrom(jobId: string, offset: number): Promise<{ entries: OutputEntry[]; offset: number; more: boolean }> {
    const { size } = await this.state(jobId);
    const entries: OutputEntry[] = [];
    let at = offset;
    if (offset >= size) return { entries, offset, more: false };
    // An append just made is still in memory; older ones are read from the file.
    const kept = this.recent.from(jobId, offset)?.filter((r) => r.end <= size);
    scan: for await (const read of kept ? [kept] : this.records(jobId, offset, size)) {
      for (const record of read) {
        entries.push(...record.entries);
        at = record.end;
        if (at - offset >= FOLLOW_WINDOW) break scan;
      }
    }
    return { entries, offset: at, more: at < size };
  }

  async delete(jobId: string): Promise<void> {
    await this.queues.get(jobId); // an append under way would write the log again after its removal
    this.handles.close(this.file(jobId));
    this.handles.close(this.indexFile(jobId));
    this.recent.drop(jobId);
    await rm(this.file(jobId), { force: true });
    await rm(this.indexFile(jobId), { force: true });
    // A log an older version wrote, renamed only when first read: a prune left it for good.
    await rm(join(this.root, `${jobId}.jsonl`), { force: true });
    this.states.delete(jobId);
  }

  /** How many logs this store keeps a state or an append queue for: for tests and diagnostics. */
  held(): { states: number; queues: number } {
    return { states: this.states.size, queues: this.queues.size };
  }

  /** How many listen for the job's lines (followers of its log): for tests and diagnostics. */
  listenerCount(jobId: string): number {
    return this.events.listenerCount(jobId);
  }

  /** Call `listener` whenever lines for the job arrive; returns the unsubscribe function. */
  subscribe(jobId: string, listener: () => void): () => void {
    this.events.on(jobId, listener);
    return () => this.events.off(jobId, listener);
  }
}
