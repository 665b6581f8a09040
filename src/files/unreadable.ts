/**
 * Files and folders this process may not read, found while scanning artifacts: a job in a
 * container, as root, may leave a folder 0700 or a file 0600 of root's, or chmod one of its
 * own to 000. They are an error naming them, not a raw EACCES, nor a file silently left out.
 */
import { accessSync, constants } from 'node:fs';
import { InvalidError } from '../core/errors.js';
import { printable } from '../core/printable.js';

/** `path` (relative to the scanned root, `/`-separated) cannot be read by this process. */
export class UnreadablePathError extends InvalidError {
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`${printable(path)} is not readable by the runner (${whoAmI()})`, options);
  }
}

/** This process's user, as messages name it. */
export function whoAmI(): string {
  return `uid ${process.getuid?.() ?? '?'}`;
}

/** Whether `error` is a refusal of the file system's permissions. */
export function isDenied(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * Whether this process may read the file at `path`. Its mode bits answer at no cost for nearly
 * every file; only those they deny are asked of the kernel, which knows ACLs and capabilities.
 */
export function mayRead(path: string, info: { uid: bigint; gid: bigint; mode: bigint }): boolean {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0) return true;
  const mode = Number(info.mode);
  const bit = Number(info.uid) === uid ? 0o400 : inGroup(Number(info.gid)) ? 0o040 : 0o004;
  if ((mode & bit) !== 0) return true;
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

let groups: Set<number> | undefined;
function inGroup(gid: number): boolean {
  groups ??= new Set([process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])]);
  return groups.has(gid);
}
