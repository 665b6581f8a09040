/**
 * Writing many files under one folder safely and quickly (downloads of thousands of small
 * files): the same guarantees as `prepareWrite` (no path out of the folder, no writing
 * through a symlink, whatever is at the path replaced rather than followed), with each
 * folder created and checked once, and a file created exclusively (O_EXCL never follows a
 * symlink) so that the common case costs no extra lookups.
 */
import { access, chmod, constants, copyFile, lstat, mkdir, realpath, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidError } from '../core/errors.js';
import { makeFolders, SMALL_FILE, writeNew } from './raw-fs.js';
import { isInside, normalizeRelative } from './safe-path.js';
import { blockedWrite, WriteBlockedError } from './write-blocked.js';

/**
 * The real path of the deepest folder of `path` that exists, below `root`; undefined when that
 * is `root` itself (or nothing below it exists yet).
 */
async function deepestExisting(path: string, root: string): Promise<string | undefined> {
  for (let at = path; at !== root && at !== dirname(at); at = dirname(at)) {
    try {
      return await realpath(at);
    } catch (e) {
      // Not there, or a file on the way (which the mkdir then names as in the way): look above.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
  }
  return undefined;
}

export class SafeWriter {
  private realRoot: Promise<string> | undefined;
  /** Folders created and found to lead nowhere outside, by absolute path. */
  private readonly folders = new Map<string, Promise<void>>();
  /** What the first file showed of the umask (for the bits of its mode): a file it leaves alone needs no chmod. */
  private umask: { bits: number; masked: number } | undefined;

  constructor(
    readonly root: string,
    /** Files up to this size are written in place (raw-fs.ts writeNew). */
    private readonly inPlaceUpTo = SMALL_FILE,
  ) {}

  /** Create `rel`'s folder (once) and check it lies inside the root; returns the file's absolute path. */
  async target(rel: string): Promise<string> {
    const target = join(this.root, normalizeRelative(rel));
    const parent = dirname(target);
    let ready = this.folders.get(parent);
    if (!ready) {
      ready = this.checkFolder(parent, rel);
      this.folders.set(parent, ready);
    }
    await ready;
    return target;
  }

  private async checkFolder(parent: string, rel: string): Promise<void> {
    // Checked before anything is made: mkdir -p follows a link on the way, and would make the
    // folders below it outside. What mkdir then makes under the folder found are real folders,
    // and the root (a fresh workspace's common case) cannot lead out of itself.
    const existing = await deepestExisting(parent, this.root);
    if (existing !== undefined) {
      this.realRoot ??= realpath(this.root);
      if (!isInside(await this.realRoot, existing)) {
        throw new InvalidError(`path '${rel}' leads out of ${this.root} through a symlink`);
      }
    }
    try {
      makeFolders(parent);
    } catch (e) {
      throw await blockedWrite(this.root, rel, parent, e);
    }
  }

  /** Make room at `target`: remove a file or link there (never follow it); a folder is an error. */
  private async clear(target: string, rel: string): Promise<void> {
    const stat = await lstat(target).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (stat?.isDirectory()) throw new WriteBlockedError(this.root, rel, target, 'folder');
    await rm(target, { force: true }).catch(async (e: unknown) => {
      throw await this.blocked(rel, e);
    });
  }

  /**
   * `e`, thrown writing `rel`, as a WriteBlockedError when permission is lacking (write-blocked.ts);
   * otherwise `e`. A copy's `source` that cannot be read is its own error, not the target folder's.
   */
  async blocked(rel: string, e: unknown, source?: string): Promise<unknown> {
    if (
      source !== undefined &&
      !(await access(source, constants.R_OK).then(
        () => true,
        () => false,
      ))
    )
      return e;
    return blockedWrite(this.root, rel, dirname(join(this.root, normalizeRelative(rel))), e);
  }

  /** Write `data` (one buffer, or parts one after another) to `rel` with exactly `mode` (whatever the umask). */
  async writeFile(rel: string, data: Uint8Array | readonly Uint8Array[], mode: number): Promise<void> {
    const target = await this.target(rel);
    const fix = async (file: { mode(): Promise<number>; chmod(mode: number): Promise<void> }) => {
      if (this.umask === undefined) {
        // Learnt from the first file: open's mode went through the umask, and the bits of `mode`
        // it took are the umask's (of those bits only: others are learnt nothing about).
        this.umask = { bits: mode, masked: mode & ~(await file.mode()) & 0o777 };
      }
      // No chmod only where every bit is one the first file showed the umask leaves alone.
      if ((mode & ~this.umask.bits) !== 0 || (mode & this.umask.masked) !== 0) await file.chmod(mode);
    };
    try {
      await writeNew(target, data, mode, fix, this.inPlaceUpTo);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw await this.blocked(rel, e);
      await this.clear(target, rel);
      await writeNew(target, data, mode, fix, this.inPlaceUpTo).catch(async (e: unknown) => {
        throw await this.blocked(rel, e);
      });
    }
  }

  /**
   * Copy the file at `source` to `rel` in the kernel (copy_file_range), with exactly `mode`.
   * The copy starts with `source`'s mode (`sourceMode`: the caller's stat of it), so only a
   * different mode costs a chmod.
   */
  async copyFile(source: string, sourceMode: number, rel: string, mode: number): Promise<void> {
    const target = await this.target(rel);
    try {
      await copyExclusive(source, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw await this.blocked(rel, e, source);
      await this.clear(target, rel);
      await copyExclusive(source, target).catch(async (e: unknown) => {
        throw await this.blocked(rel, e, source);
      });
    }
    if ((sourceMode & 0o7777) !== mode) await chmod(target, mode);
  }

  /**
   * Make the folder `rel` with exactly `mode` (an artifact's empty folder). A folder there is
   * kept, its mode set; a file or link there is replaced, never followed.
   */
  async makeFolder(rel: string, mode: number): Promise<void> {
    const target = await this.target(rel);
    const blocked = async (e: unknown) => {
      throw await this.blocked(rel, e);
    };
    try {
      await mkdir(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') await blocked(e);
      if (!(await lstat(target)).isDirectory()) {
        await this.clear(target, rel);
        await mkdir(target).catch(blocked);
      }
    }
    await chmod(target, mode).catch(blocked); // mkdir's mode goes through the umask
  }

  /** The absolute path for `rel`, with anything that was there removed: for writers that open it themselves. */
  async replace(rel: string): Promise<string> {
    const target = await this.target(rel);
    await this.clear(target, rel);
    return target;
  }
}

/** A new file at `target` (O_EXCL: never through a link there), removed again if the copy fails midway. */
async function copyExclusive(source: string, target: string): Promise<void> {
  try {
    await copyFile(source, target, constants.COPYFILE_EXCL);
  } catch (e) {
    // The source is opened first: without one, the target was never touched (it may be someone's file).
    const started =
      (e as NodeJS.ErrnoException).code !== 'EEXIST' &&
      (await access(source).then(
        () => true,
        () => false,
      ));
    if (started) await rm(target, { force: true });
    throw e;
  }
}
