/**
 * `mkdir -p` that ends. Node 20's `mkdir(path, { recursive: true })` never returns, spinning a
 * core, where mkdir answers ENOENT under a folder that exists (`/proc/nope`: ENOENT, so it makes
 * `/proc`, finds it there, and tries `/proc/nope` again, forever). These make one folder at a
 * time and fail with that ENOENT. Every folder dstack makes with its parents goes through here.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.js';
import { isDiskFull } from './refused-write.js';

/** Makes `path` and the folders above it that are missing, each with `mode`; returns the first it made, or undefined when `path` was a folder. */
export async function makeFolder(path: string, mode?: number): Promise<string | undefined> {
  try {
    await mkdir(path, { mode });
    return path;
  } catch (e) {
    if (errno(e) === 'EEXIST') return folderThere((await stat(path)).isDirectory(), e);
    const parent = dirname(path);
    if (errno(e) !== 'ENOENT' || parent === path) throw e;
    const first = await makeFolder(parent, mode);
    try {
      await mkdir(path, { mode }); // an ENOENT now, its parent there, is final
    } catch (again) {
      if (errno(again) !== 'EEXIST') throw again;
      return folderThere((await stat(path)).isDirectory(), again, first);
    }
    return first ?? path;
  }
}

/** makeFolder, synchronously. */
export function makeFolderSync(path: string, mode?: number): string | undefined {
  try {
    mkdirSync(path, { mode });
    return path;
  } catch (e) {
    if (errno(e) === 'EEXIST') return folderThere(statSync(path).isDirectory(), e);
    const parent = dirname(path);
    if (errno(e) !== 'ENOENT' || parent === path) throw e;
    const first = makeFolderSync(parent, mode);
    try {
      mkdirSync(path, { mode });
    } catch (again) {
      if (errno(again) !== 'EEXIST') throw again;
      return folderThere(statSync(path).isDirectory(), again, first);
    }
    return first ?? path;
  }
}

/** The setting that named a folder, for the message when it cannot be made. */
export interface FolderSetting {
  /** `DSTACK_HOME`, `--data-dir`. */
  setting: string;
  /** Its value, as given. */
  value: string;
  /** What to do, after the reason (`give a folder (it is made when missing)`). */
  hint?: string;
}

/**
 * makeFolder for a folder a user chose (or one under it): a failure to make it is a UsageError
 * that names the setting, its value and why (`invalid DSTACK_HOME '/proc/nope': cannot make the
 * folder /proc/nope: no such file or directory`), not an internal error.
 */
export async function makeChosenFolder(path: string, chosen: FolderSetting, mode?: number): Promise<void> {
  try {
    await makeFolder(path, mode);
  } catch (e) {
    if (isDiskFull(e)) throw e; // not the setting's fault: the caller says which disk, and what it was doing
    const why = whyNoFolder(e, path);
    if (why === undefined) throw e;
    const hint = chosen.hint ?? `set ${chosen.setting} to a folder you can write`;
    throw new UsageError(`invalid ${chosen.setting} '${chosen.value}': ${why}; ${hint}`, { cause: e });
  }
}

/** Why mkdir failed, in words, naming the folder; undefined for what is no file system error. */
export function whyNoFolder(e: unknown, path: string): string | undefined {
  const code = errno(e);
  if (code === undefined) return undefined;
  const at = (e as NodeJS.ErrnoException).path ?? path;
  switch (code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return `${path} (or a folder above it) is a file`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to make ${at}`;
    default: {
      // `ENOENT: no such file or directory, mkdir '/proc/nope'` → `no such file or directory`.
      const text = (e as Error).message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '');
      return `cannot make the folder ${at}: ${text}`;
    }
  }
}

function errno(e: unknown): string | undefined {
  return e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
}

/** A folder at the path is what was asked; anything else keeps mkdir's EEXIST. */
function folderThere(isFolder: boolean, error: unknown, first?: string): string | undefined {
  if (!isFolder) throw error;
  return first;
}
