/**
 * The sparse index of a job's log file: every so many lines or bytes, a fixed-size record
 * (seq of the entry starting there, its byte offset, the latest timestamp before it).
 * Binary-searched with positional reads, so `--since` and resuming after a sequence number
 * read only the index and the log from the right place, however long the log is.
 *
 * "Latest timestamp before" is a running maximum: with it the search stays correct even
 * when a runner's clock stepped back (entries are in seq order, not strictly in time order).
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

const RECORD = 24;

export interface IndexPoint {
  /** The sequence number of the entry that starts at `offset`. */
  seq: number;
  offset: number;
  /** The latest `ts` of all entries before `offset` (-Infinity at the start). */
  maxTsBefore: number;
}

/** Where every log starts: an implicit first record. */
export const START: IndexPoint = { seq: 1, offset: 0, maxTsBefore: -Infinity };

export function encodePoints(points: readonly IndexPoint[]): Buffer {
  const buffer = Buffer.alloc(points.length * RECORD);
  points.forEach((p, i) => {
    buffer.writeDoubleLE(p.seq, i * RECORD);
    buffer.writeDoubleLE(p.offset, i * RECORD + 8);
    buffer.writeDoubleLE(p.maxTsBefore, i * RECORD + 16);
  });
  return buffer;
}

function decode(buffer: Buffer, at = 0): IndexPoint {
  return {
    seq: buffer.readDoubleLE(at),
    offset: buffer.readDoubleLE(at + 8),
    maxTsBefore: buffer.readDoubleLE(at + 16),
  };
}

async function withIndex<T>(
  file: string,
  fn: (handle: FileHandle, count: number) => Promise<T>,
  absent: T,
): Promise<T> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return absent;
    throw e;
  }
  try {
    const { size } = await handle.stat();
    return await fn(handle, Math.floor(size / RECORD));
  } finally {
    await handle.close();
  }
}

async function readPoint(handle: FileHandle, i: number): Promise<IndexPoint> {
  const buffer = Buffer.alloc(RECORD);
  await handle.read(buffer, 0, RECORD, i * RECORD);
  return decode(buffer);
}

/** The last point for which `before` holds (it must hold for a prefix of the points), or START. */
async function lastWhere(file: string, before: (p: IndexPoint) => boolean): Promise<IndexPoint> {
  return withIndex(
    file,
    async (handle, count) => {
      let lo = 0;
      let hi = count; // invariant: points [0, lo) satisfy `before`, [hi, count) do not
      let best = START;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const point = await readPoint(handle, mid);
        if (before(point)) {
          best = point;
          lo = mid + 1;
        } else hi = mid;
      }
      return best;
    },
    START,
  );
}

/** A point at or before the first entry with seq > `afterSeq`. */
export function pointForSeq(file: string, afterSeq: number): Promise<IndexPoint> {
  return lastWhere(file, (p) => p.seq <= afterSeq + 1);
}

/** A point at or before the first entry with ts >= `since`: everything before it is older. */
export function pointForTime(file: string, since: number): Promise<IndexPoint> {
  return lastWhere(file, (p) => p.maxTsBefore < since);
}

/** The last point that lies within the first `logSize` bytes of the log, and how many records are valid. */
export async function lastPoint(file: string, logSize: number): Promise<{ point: IndexPoint; valid: number }> {
  return withIndex(
    file,
    async (handle, count) => {
      // Records past the log's end come from an append that was cut off: they do not count.
      for (let i = count - 1; i >= 0; i--) {
        const point = await readPoint(handle, i);
        if (point.offset < logSize) return { point, valid: i + 1 };
      }
      return { point: START, valid: 0 };
    },
    { point: START, valid: 0 },
  );
}

export const INDEX_RECORD_BYTES = RECORD;
