/**
 * Errors of a disk or a file system that refused a write, by their codes: not a bug in dstack
 * but something a user or an admin fixes (free space, a folder's owner), so each edge says
 * so in words (the server's 507, the CLI's message, a job's reason).
 */

/** Codes of a write to a full disk, as each layer names it: Node's, better-sqlite3's, PostgreSQL's SQLSTATE. */
export const DISK_FULL: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  SQLITE_FULL: 'database or disk is full',
  '53100': "no space left on the database's disk",
};
export const DISK_FULL_CODES: ReadonlySet<string> = new Set(Object.keys(DISK_FULL));

/** Codes of a write the system refused to this process: the folder is another user's, or mounted read-only. */
export const WRITE_REFUSED: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
};
export const WRITE_REFUSED_CODES: ReadonlySet<string> = new Set(Object.keys(WRITE_REFUSED));

/** The first of `error` and its causes (fetch's, an AggregateError's) with one of `codes`, if any. */
export function errorWithCode(
  error: unknown,
  codes: ReadonlySet<string>,
  depth = 0,
): (Error & { code: string }) | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && codes.has(code)) return error as Error & { code: string };
  const inner = error instanceof AggregateError ? (error.errors as unknown[]) : [];
  for (const e of [error.cause, ...inner]) {
    const found = errorWithCode(e, codes, depth + 1);
    if (found) return found;
  }
  return undefined;
}
