/**
 * A better-sqlite3 database as kysely's SQLite dialect sees it, with prepared statements
 * reused: kysely prepares every query anew, and preparing costs about as much as running
 * the small queries the server makes. better-sqlite3 runs `all`/`run` synchronously, so a
 * cached statement is never in use by two queries at once; one still iterating (a streamed
 * query) is `busy`, and then a fresh statement is prepared instead.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase } from 'kysely';

/** Distinct SQL texts kept; `in (…)` lists of many lengths would otherwise grow it without end. */
const MAX_STATEMENTS = 256;

export function withStatementCache(database: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare: (sql: string) => {
      const cached = statements.get(sql);
      if (cached !== undefined && !cached.busy) {
        // Most recently used last, so the oldest is the one evicted.
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      if (cached === undefined) {
        if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
