/**
 * The file a job's log entries are spooled to before they are sent. Appends are synchronous
 * and made as the output is read, so a runner killed a moment later has on disk every line it
 * read. Entries the server has acknowledged are dropped: the file is cut to nothing once it
 * holds none other. A job whose output never pauses would keep entries unacknowledged at every
 * send, so past ROTATE_BYTES the file becomes the older generation (`PATH.1`), removed once all
 * of its entries are acknowledged, and appends go to a fresh one: the spool holds about what
 * the server has not yet got, not the whole log.
 *
 * An append may end with a record of the job's unfinished lines (log-spool.ts: `unfinishedRecord`),
 * which the next append supersedes; it is written again when the file is cut to nothing.
 */
import { closeSync, ftruncateSync, fstatSync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeFolderSync } from '../files/make-folder.js';

const ROTATE_BYTES = 16 << 20;

/** The older generation of `spool`: read before it by a restarted runner. */
export const olderSpool = (spool: string): string => `${spool}.1`;

export class SpoolFile {
  private fd: number | undefined;
  private size = 0;
  /** Unacknowledged entries in this file, and in the older generation (0: there is none). */
  private entries = 0;
  private olderEntries = 0;
  /** The unfinished lines' record the last append ended with: written again when the file is cut. */
  private unfinished: readonly Buffer[] | undefined;
  /** An append cut short could not be cut back off (the disk refused even that): done before the next. */
  private torn = false;

  constructor(
    readonly path: string,
    private readonly rotateBytes = ROTATE_BYTES,
  ) {}

  /**
   * Append one record of `count` entries, then `unfinished` (a record of the unfinished lines,
   * or none), in one write: whole or not at all. A write the disk cuts short is cut back off,
   * so that the file ends with whole records and later appends are read back after it.
   */
  append(record: readonly Buffer[], count: number, unfinished?: readonly Buffer[]): void {
    if (record.length === 0 && unfinished === undefined) return;
    if (this.size >= this.rotateBytes && this.olderEntries === 0 && this.entries > 0) this.rotate();
    const fd = this.open();
    if (this.torn) {
      ftruncateSync(fd, this.size); // throws while the disk still refuses: this append fails as well
      this.torn = false;
    }
    const parts = unfinished === undefined ? record : [...record, ...unfinished];
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    try {
      const written = writevSync(fd, parts);
      if (written !== length) throw new Error(`spool append wrote ${written} of ${length} bytes`);
    } catch (e) {
      try {
        ftruncateSync(fd, this.size);
      } catch {
        this.torn = true;
      }
      throw e;
    }
    this.size += length;
    this.entries += count;
    this.unfinished = unfinished;
  }

  /** The server has the `count` oldest entries appended. */
  acknowledged(count: number): void {
    const older = Math.min(count, this.olderEntries);
    this.olderEntries -= older;
    if (older > 0 && this.olderEntries === 0) unlinkSync(olderSpool(this.path));
    this.entries = Math.max(0, this.entries - (count - older));
    if (this.entries === 0 && this.size > 0 && this.fd !== undefined) {
      ftruncateSync(this.fd, 0);
      this.size = 0;
      const unfinished = this.unfinished;
      this.unfinished = undefined;
      if (unfinished) this.append([], 0, unfinished);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number {
    if (this.fd === undefined) {
      makeFolderSync(dirname(this.path));
      this.fd = openSync(this.path, 'a');
      this.size = fstatSync(this.fd).size;
      this.torn = false;
    }
    return this.fd;
  }

  private rotate(): void {
    this.close();
    renameSync(this.path, olderSpool(this.path));
    this.olderEntries = this.entries;
    this.entries = 0;
    this.size = 0;
  }
}
