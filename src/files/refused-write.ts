/**
 * A write into one of dstack's own folders (DSTACK_HOME, a server's data folder, a runner's
 * job folder) that the disk or the system refused, said as what it is: the disk holding that
 * folder is full, or the folder is not this user's to write in, or is read-only. Node's own
 * message for a failed write names no path (`ENOSPC: no space left on device, write`), and
 * read as a bug's (`internal error`) it sent users to report what only they can fix.
 */
import { DISK_FULL, DISK_FULL_CODES, errorWithCode, WRITE_REFUSED, WRITE_REFUSED_CODES } from '../core/disk-errors.js';
import { DstackError, ForbiddenError, StorageFullError } from '../core/errors.js';

/**
 * `e` in a user's words when it is a refused write (see above), else undefined (a DstackError
 * too: it says what it is already).
 * `folder`: where it was writing; `doing`: what for, as "while DOING" reads (`saving artifacts`);
 * `advice`: what else would help (`set DSTACK_HOME to a folder on another disk`).
 */
export function refusedWrite(e: unknown, folder: string, doing: string, advice?: string): DstackError | undefined {
  if (e instanceof DstackError) return undefined; // said already, by what knew more (a path in the way, the server)
  const full = errorWithCode(e, DISK_FULL_CODES);
  if (full) {
    const fix = `free space on it${advice ? `, or ${advice}` : ''}`;
    return new StorageFullError(`the disk holding ${folder} is full (${DISK_FULL[full.code]}) while ${doing}: ${fix}`, {
      cause: e,
    });
  }
  const refused = errorWithCode(e, WRITE_REFUSED_CODES) as (Error & { code: string; dest?: unknown }) | undefined;
  if (refused) {
    const words = WRITE_REFUSED[refused.code];
    // A rename's target (a file made immutable) is the one in the way; otherwise the folder is.
    const why =
      refused.code === 'EROFS'
        ? `${folder} is on a read-only file system`
        : typeof refused.dest === 'string'
          ? `cannot replace ${refused.dest} (${words})`
          : `no permission to write in ${folder} (${words})`;
    return new ForbiddenError(`${why} while ${doing}${advice ? `: ${advice}` : ''}`, { cause: e });
  }
  return undefined;
}

/** `e` as refusedWrite says it, or `e` itself: for a `catch` that rethrows. */
export function explainWrite(e: unknown, folder: string, doing: string, advice?: string): unknown {
  return refusedWrite(e, folder, doing, advice) ?? e;
}

/**
 * `e` as refusedWrite says it when the disk is full, else `e` itself: for steps that read as
 * well as write (a save reads the job's files), where a refused access may not be a write.
 */
export function explainFullDisk(e: unknown, folder: string, doing: string): unknown {
  if (e instanceof DstackError || errorWithCode(e, DISK_FULL_CODES) === undefined) return e;
  return refusedWrite(e, folder, doing) ?? e;
}

/** Whether `e` (or a cause of it) is a disk's or a server's storage being full. */
export function isDiskFull(e: unknown): boolean {
  return e instanceof StorageFullError || errorWithCode(e, DISK_FULL_CODES) !== undefined || saysNoSpace(e);
}

/** A file worker's error reaches the runner as its message only (file-workers.ts): `ENOSPC: …`. */
function saysNoSpace(e: unknown): boolean {
  for (let cause = e, depth = 0; cause instanceof Error && depth < 10; cause = cause.cause, depth++) {
    if (/\bENOSPC\b/.test(cause.message)) return true;
  }
  return false;
}
