/**
 * Recognising constraint violations from either driver: better-sqlite3 sets `code` to an
 * extended result code name, node-postgres to the SQLSTATE.
 */

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

const UNIQUE = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', '23505']);
const FOREIGN_KEY = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

/** A primary key or unique constraint rejected the write. */
export function isUniqueViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && UNIQUE.has(code);
}

/** A foreign key rejected the write: the row it points at does not exist. */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && FOREIGN_KEY.has(code);
}
