/** The one place where errors become exit codes and messages; stack traces only with --debug. */
import pc from 'picocolors';
import { DISK_FULL, DISK_FULL_CODES, errorWithCode, WRITE_REFUSED, WRITE_REFUSED_CODES } from '../core/disk-errors.js';
import { DstackError, assertNever, type ErrorCode } from '../core/errors.js';
import { printable } from '../core/printable.js';

export function exitCode(code: ErrorCode): number {
  switch (code) {
    case 'usage':
    case 'config':
    case 'invalid':
      return 2;
    case 'too_large':
    case 'not_found':
    case 'conflict':
    case 'unauthorized':
    case 'forbidden':
    case 'unavailable':
    case 'storage_full':
    case 'too_many_requests':
      return 1;
    case 'internal':
      return 70;
    default:
      return assertNever(code, 'error code');
  }
}

export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof DstackError) {
    // A message may name a file or quote a job's reason: its control characters are shown escaped
    // (a message of several lines keeps its line breaks).
    process.stderr.write(`${pc.red('error:')} ${printable(error.message, '\n')}\n`);
    if (debug && error.stack) process.stderr.write(error.stack + '\n');
    return exitCode(error.code);
  }
  const refused = refusedWriteMessage(error);
  if (refused !== undefined) {
    process.stderr.write(`${pc.red('error:')} ${printable(refused, '\n')}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
    return 1;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(
    `${pc.red('error:')} internal error (this is a bug in dstack; please report it with the output of --debug): ${printable(e.message, '\n')}\n`,
  );
  if (debug && e.stack) process.stderr.write(e.stack + '\n');
  return 70;
}

const REFUSED_CODES: ReadonlySet<string> = new Set([...DISK_FULL_CODES, ...WRITE_REFUSED_CODES]);

/**
 * A disk or a system that refused a write no caller explained (refused-write.ts does where the
 * folder is known): not a bug, so not "internal error", and said with the path where the error
 * has one (a failed open or mkdir does; a failed write does not).
 */
function refusedWriteMessage(error: unknown): string | undefined {
  const e = errorWithCode(error, REFUSED_CODES) as (Error & { code: string; path?: string }) | undefined;
  if (e === undefined) return undefined;
  const path = typeof e.path === 'string' ? e.path : undefined;
  const full = DISK_FULL[e.code];
  if (full !== undefined) {
    return `${path ? `the disk holding ${path}` : 'a disk'} is full (${full}): free space on it and run again`;
  }
  const words = `${WRITE_REFUSED[e.code]} (${e.code})`;
  if (path === undefined) return words;
  return e.code === 'EROFS' ? `${path}: ${words}` : `${path}: ${words}: check its owner and permissions`;
}
