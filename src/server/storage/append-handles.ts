/**
 * Files kept open for appending, and reading back, while they are busy: a chatty job's log
 * gets hundreds of appends a second and its followers read each one back, and an open and a
 * close around each was a tenth of the log store's time. A file idle for a few seconds is closed, and so is the least recently used one past
 * a cap; a file in use by an append is never closed under it.
 */
import { open, type FileHandle } from 'node:fs/promises';

const IDLE_MS = 5000;
const MAX_OPEN = 128;

interface Entry {
  handle: Promise<FileHandle>;
  users: number;
  timer?: NodeJS.Timeout;
}

export class AppendHandles {
  /** Least recently used first. */
  private readonly entries = new Map<string, Entry>();

  /** Run `fn` with `file` open for appending and positional reads (created if missing). */
  async use<T>(file: string, fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    let entry = this.entries.get(file);
    if (entry === undefined) {
      entry = { handle: open(file, 'a+'), users: 0 };
      this.trim();
    } else this.entries.delete(file); // re-inserted below: now the most recently used
    this.entries.set(file, entry);
    clearTimeout(entry.timer);
    entry.users++;
    try {
      return await fn(await entry.handle);
    } catch (e) {
      void this.close(file); // a failed write may leave the handle unusable: the next append opens anew
      throw e;
    } finally {
      entry.users--;
      if (entry.users === 0 && this.entries.get(file) === entry) {
        entry.timer = setTimeout(() => void this.close(file), IDLE_MS).unref();
      }
    }
  }

  /** Close `file` if it is open (before it is removed, say); an append using it finishes first. */
  async close(file: string): Promise<void> {
    const entry = this.entries.get(file);
    if (entry === undefined) return;
    this.entries.delete(file);
    clearTimeout(entry.timer);
    const handle = await entry.handle.catch(() => undefined);
    // In use: its append closes nothing; the handle is closed once the last user is done.
    while (entry.users > 0) await new Promise((r) => setTimeout(r, 10));
    await handle?.close().catch(() => {});
  }

  /** Close the least recently used idle files past the cap. */
  private trim(): void {
    for (const [file, entry] of this.entries) {
      if (this.entries.size < MAX_OPEN) return;
      if (entry.users === 0) void this.close(file);
    }
  }
}
