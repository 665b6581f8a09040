import SqliteDatabase from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/server/store/statement-cache.js';

describe('withStatementCache', () => {
  it('reuses the prepared statement for the same SQL, and results stay per call', () => {
    const raw = new SqliteDatabase(':memory:');
    const db = withStatementCache(raw);
    try {
      db.prepare('create table t (x integer)').run([]);
      const insert = db.prepare('insert into t (x) values (?)');
      insert.run([1]);
      expect(db.prepare('insert into t (x) values (?)')).toBe(insert);
      db.prepare('insert into t (x) values (?)').run([2]);
      expect(db.prepare('select x from t order by x').all([])).toEqual([{ x: 1 }, { x: 2 }]);
      expect(db.prepare('select x from t where x = ?').all([2])).toEqual([{ x: 2 }]);
    } finally {
      db.close();
    }
  });

  it('prepares a fresh statement while the cached one is still iterating', () => {
    const raw = new SqliteDatabase(':memory:');
    const db = withStatementCache(raw);
    try {
      db.prepare('create table t (x integer)').run([]);
      for (const x of [1, 2]) db.prepare('insert into t (x) values (?)').run([x]);
      const sql = 'select x from t order by x';
      const outer = db.prepare(sql).iterate([]);
      const seen: unknown[] = [];
      for (const row of outer) seen.push(row, db.prepare(sql).all([]));
      expect(seen).toEqual([{ x: 1 }, [{ x: 1 }, { x: 2 }], { x: 2 }, [{ x: 1 }, { x: 2 }]]);
    } finally {
      db.close();
    }
  });
});
