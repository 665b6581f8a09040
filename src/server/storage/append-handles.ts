/**
 * Files kept open for appending, and reading back, while they are busy: a chatty job's log
 * gets hundreds of appends a second and its followers read each one back, and an open and a
 * close around each was a tenth of the log store's time. A file idle for a few seconds is
 * closed, and so is the least recently used one past a cap.
 *
 * The calls are synchronous (files/raw-fs.ts says why): an append is one batch of a job's
 * output, in the page cache, and through libuv's pool a job's first append alone (open, write)
 * cost the server's thread more than the job's other file calls together. Being synchronous,
 * no file can be closed while an append or a read is using it.
 */
import { closeSync, openSync, readSync, writevSync } from 'node:fs';

const IDLE_MS = 5000;
const MAX_OPEN = 128;

interface Entry {
  fd: number;
  usedAt: number;
}

export class AppendHandles {
  /** Least recently used first. */
  private readonly entries = new Map<string, Entry>();
  private sweeper: NodeJS.Timeout | undefined;

  /** Append all of `parts` to `file` (created if missing) in one write. */
  append(file: string, parts: readonly Uint8Array[]): void {
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    const written = this.use(file, (fd) => writevSync(fd, parts as Uint8Array[]));
    if (written !== length) {
      this.close(file); // the next append starts from a fresh open
      throw new Error(`append to ${file} wrote ${written} of ${length} bytes`);
    }
  }

  /** Read into `buffer` from byte `position` of `file`; the bytes read. */
  read(file: string, buffer: Uint8Array, position: number): number {
    return this.use(file, (fd) => readSync(fd, buffer, 0, buffer.length, position));
  }

  /** Close `file` if it is open (before it is removed, say). */
  close(file: string): void {
    const entry = this.entries.get(file);
    if (entry === undefined) return;
    this.entries.delete(file);
    try {
      closeSync(entry.fd);
    } catch {
      // closed it is, whatever close says (EIO of a write that was already reported)
    }
  }

  /** Run `fn` with `file` open for appending and positional reads (created if missing). */
  private use<T>(file: string, fn: (fd: number) => T): T {
    let entry = this.entries.get(file);
    if (entry === undefined) {
      this.trim();
      entry = { fd: openSync(file, 'a+'), usedAt: 0 };
    } else this.entries.delete(file); // re-inserted below: now the most recently used
    entry.usedAt = Date.now();
    this.entries.set(file, entry);
    this.sweeper ??= setInterval(() => this.sweep(), IDLE_MS).unref();
    try {
      return fn(entry.fd);
    } catch (e) {
      this.close(file); // a failed call may leave the file unusable: the next one opens it anew
      throw e;
    }
  }

  /** Close the least recently used files past the cap, leaving room for one more. */
  private trim(): void {
    for (const file of this.entries.keys()) {
      if (this.entries.size < MAX_OPEN) return;
      this.close(file);
    }
  }

  /** Close the files idle for IDLE_MS; stop looking when none is open. */
  private sweep(): void {
    const now = Date.now();
    for (const [file, entry] of this.entries) {
      if (now - entry.usedAt < IDLE_MS) break; // the rest were used later
      this.close(file);
    }
    if (this.entries.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
