/**
 * A file that cannot be written where a manifest puts it: a file where its folder goes, a
 * folder where it goes, or a folder not ours to write in. Caught here from the errno of
 * mkdir or open (EEXIST, ENOTDIR, EACCES) and named by the path in the way, so that a user
 * (an `--output` download) or a job's log (a runner's workspace) sees what to move.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { DstackError } from '../core/errors.js';

export type Blocker = 'file' | 'folder' | 'no permission';

export class WriteBlockedError extends DstackError {
  readonly code;

  constructor(
    /** The folder written into. */
    readonly root: string,
    /** The file's path under `root`, as its manifest has it. */
    readonly rel: string,
    /** The absolute path in the way: the file, the folder, or the folder that refused. */
    readonly at: string,
    readonly blocker: Blocker,
    /** What the caller calls the file ('artifact file'), and what the user can do about it. */
    words: { what?: string; advice?: string } = {},
    options?: ErrorOptions,
  ) {
    const why = blocker === 'no permission' ? `no permission to write in '${at}'` : `'${at}' is a ${blocker}`;
    const advice = words.advice === undefined ? '' : `; ${words.advice}`;
    super(`cannot write ${words.what ?? 'file'} '${rel}' into ${root}: ${why}${advice}`, options);
    this.code = blocker === 'no permission' ? ('forbidden' as const) : ('conflict' as const);
  }

  /** The same error in a caller's words. */
  explained(what: string, advice: (blocker: Blocker) => string | undefined): WriteBlockedError {
    const words = { what, ...(advice(this.blocker) !== undefined && { advice: advice(this.blocker) }) };
    return new WriteBlockedError(this.root, this.rel, this.at, this.blocker, words, { cause: this });
  }
}

const PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * `e`, thrown making `folder` (a folder of `rel` under `root`) or creating the file `rel` in
 * it, as a WriteBlockedError when a file is in the way or permission is lacking; otherwise `e`.
 */
export async function blockedWrite(root: string, rel: string, folder: string, e: unknown): Promise<unknown> {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    // The first path from the root down that is there and is no folder (a link to one is a folder here).
    const below = relative(root, folder);
    let at = root;
    for (const part of below === '' ? [] : below.split(sep)) {
      at = join(at, part);
      const found = await stat(at).catch(() => undefined);
      if (found === undefined) break;
      if (!found.isDirectory()) return new WriteBlockedError(root, rel, at, 'file', {}, { cause: e });
    }
    return e;
  }
  if (code !== undefined && PERMISSION.has(code)) {
    // The deepest folder that is there: the one that refused a new entry.
    let at = folder;
    while (
      at !== dirname(at) &&
      !(await stat(at).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      at = dirname(at);
    return new WriteBlockedError(root, rel, at, 'no permission', {}, { cause: e });
  }
  return e;
}
