/**
 * The sparse index of a job's log file: every so many lines or bytes, a fixed-size record
 * (seq of the entry starting there, its byte offset, the latest timestamp before it).
 * Binary-searched with positional reads, so `--since` and resuming after a sequence number
 * read only the index and the log from the right place, however long the log is.
 *
 * "Latest timestamp before" is a running maximum: with it the search stays correct even
 * when a runner's clock stepped back (entries are in seq order, not strictly in time order).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

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

/**
 * `fn` with the index open and its count of records, or `absent` when there is no index.
 * Synchronous: an open, a stat and a few reads of 24 bytes cost less in place than the trips
 * through libuv's pool (files/raw-fs.ts), and a new job's log looks for its index at once.
 */
function withIndex<T>(file: string, fn: (fd: number, count: number, bytes: number) => T, absent: T): T {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return absent;
    throw e;
  }
  try {
    const bytes = fstatSync(fd).size;
    return fn(fd, Math.floor(bytes / RECORD), bytes);
  } finally {
    closeSync(fd);
  }
}

function readPoint(fd: number, i: number): IndexPoint {
  const buffer = Buffer.alloc(RECORD);
  readSync(fd, buffer, 0, RECORD, i * RECORD);
  return decode(buffer);
}

/** The last point for which `before` holds (it must hold for a prefix of the points), or START. */
function lastWhere(file: string, before: (p: IndexPoint) => boolean): IndexPoint {
  return withIndex(
    file,
    (fd, count) => {
      let lo = 0;
      let hi = count; // invariant: points [0, lo) satisfy `before`, [hi, count) do not
      let best = START;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const point = readPoint(fd, mid);
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
export function pointForSeq(file: string, afterSeq: number): IndexPoint {
  return lastWhere(file, (p) => p.seq <= afterSeq + 1);
}

/** A point at or before the first entry with ts >= `since`: everything before it is older. */
export function pointForTime(file: string, since: number): IndexPoint {
  return lastWhere(file, (p) => p.maxTsBefore < since);
}

/**
 * The last point that lies within the first `logSize` bytes of the log, how many records are
 * valid, and whether the file holds more than those (to be cut: a torn append of the index
 * leaves part of a record).
 */
export function lastPoint(file: string, logSize: number): { point: IndexPoint; valid: number; torn: boolean } {
  return withIndex(
    file,
    (fd, count, bytes) => {
      // Records past the log's end come from an append that was cut off: they do not count.
      for (let i = count - 1; i >= 0; i--) {
        const point = readPoint(fd, i);
        if (point.offset < logSize) return { point, valid: i + 1, torn: (i + 1) * RECORD < bytes };
      }
      return { point: START, valid: 0, torn: bytes > 0 };
    },
    { point: START, valid: 0, torn: false },
  );
}

export const INDEX_RECORD_BYTES = RECORD;
