/**
 * The pure part of a log append (log-store.ts): which of a runner's entries are new, and how
 * they are cut into records with the index points due before them. The store does the I/O.
 */
import { InvalidError } from '../../core/errors.js';
import { encodeBatch, type OutputEntry } from '../../core/log-batch.js';
import { gapNote } from './log-gap.js';
import type { IndexPoint } from './log-index.js';
import type { LogRecord } from './log-scan.js';

/** An index point every this many entries or bytes, whichever comes first. */
const INDEX_EVERY_ENTRIES = 1000;
const INDEX_EVERY_BYTES = 256 << 10;

/** What is known of a job's log once it has been opened: kept up to date by appends. */
export interface LogState {
  /** Bytes of whole appends: readers never go past this. */
  size: number;
  lastSeq: number;
  maxTs: number;
  entriesSinceIndex: number;
  bytesSinceIndex: number;
}

/** What an append writes, and the log's state once it is written. */
export interface PlannedAppend {
  next: LogState;
  /** The records' bytes, in order: one write. */
  parts: Buffer[];
  records: LogRecord[];
  points: IndexPoint[];
}

/**
 * The entries past `lastSeq`, in sequence order. Those already stored are a runner's re-send.
 * A batch that starts past the log's end holds entries this disk never had and the runner no
 * longer has (a server on a new data folder: a running job's log is archived only once it
 * ends). Refusing them would wedge the job, so the hole is said in the log instead, at the seq
 * just before the batch.
 */
export function freshEntries(jobId: string, lastSeq: number, entries: readonly OutputEntry[]): OutputEntry[] {
  const ordered = entries.every((e, i) => i === 0 || e.seq > entries[i - 1]!.seq)
    ? entries
    : [...entries].sort((a, b) => a.seq - b.seq);
  const fresh: OutputEntry[] = [];
  let last = lastSeq;
  for (const e of ordered) {
    if (e.seq <= last) continue;
    if (e.seq !== last + 1) {
      if (fresh.length > 0) throw new InvalidError(`log entry ${e.seq} of job ${jobId} leaves a gap after ${last}`);
      fresh.push(gapNote(last + 1, e));
    }
    fresh.push(e);
    last = e.seq;
  }
  return fresh;
}

/** Cut `fresh` (non-empty) into records, one per index interval: an index point always names a record's start. */
export function planAppend(state: LogState, fresh: readonly OutputEntry[]): PlannedAppend {
  const next = { ...state };
  const parts: Buffer[] = [];
  const records: LogRecord[] = [];
  const points: IndexPoint[] = [];
  let group: OutputEntry[] = [];
  let groupBytes = 0;
  const endGroup = () => {
    const record = encodeBatch(group);
    parts.push(...record);
    const start = next.size;
    advance(
      next,
      group,
      record.reduce((end, part) => end + part.length, start),
    );
    records.push({ entries: group, start, end: next.size });
    group = [];
    groupBytes = 0;
  };
  for (const e of fresh) {
    const due =
      next.entriesSinceIndex + group.length >= INDEX_EVERY_ENTRIES ||
      next.bytesSinceIndex + groupBytes >= INDEX_EVERY_BYTES;
    if (group.length > 0 && due) endGroup();
    if (group.length === 0) {
      const point = indexPoint(next, e.seq);
      if (point) points.push(point);
    }
    group.push(e);
    groupBytes += e.bytes.length;
  }
  endGroup();
  return { next, parts, records, points };
}

/** The index point due before a record starting with entry `seq` at `state.size`, if one is (and `state` counts afresh). */
export function indexPoint(state: LogState, seq: number): IndexPoint | undefined {
  if (state.entriesSinceIndex < INDEX_EVERY_ENTRIES && state.bytesSinceIndex < INDEX_EVERY_BYTES) return undefined;
  state.entriesSinceIndex = 0;
  state.bytesSinceIndex = 0;
  return { seq, offset: state.size, maxTsBefore: state.maxTs };
}

/** `state` past a record of `entries` ending at byte `end`. */
export function advance(state: LogState, entries: readonly OutputEntry[], end: number): void {
  state.bytesSinceIndex += end - state.size;
  state.entriesSinceIndex += entries.length;
  state.size = end;
  state.lastSeq = entries[entries.length - 1]!.seq;
  for (const e of entries) if (e.ts > state.maxTs) state.maxTs = e.ts;
}
