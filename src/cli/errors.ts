/** The one place where errors become exit codes and messages; stack traces only with --debug. */
import pc from 'picocolors';
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
  const e = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(
    `${pc.red('error:')} internal error (this is a bug in dstack; please report it with the output of --debug): ${printable(e.message, '\n')}\n`,
  );
  if (debug && e.stack) process.stderr.write(e.stack + '\n');
  return 70;
}
