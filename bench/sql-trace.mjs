// Preload for profiling (`node --import ./bench/sql-trace.mjs …`): times every better-sqlite3
// statement (prepare, then run/get/all/iterate) by its SQL text and writes the totals as JSON to
// $BENCH_SQL_TRACE when the process exits. Plain JavaScript: it runs in the server's own node.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const out = process.env.BENCH_SQL_TRACE;
if (out) {
  // Resolve better-sqlite3 as dstack does, from the repository root.
  const require = createRequire(join(process.cwd(), 'package.json'));
  const Database = require('better-sqlite3');
  /** sql → { calls, prepareMs, runMs, rows } */
  const stats = new Map();
  const stat = (sql) => {
    const key = sql.replace(/\s+/g, ' ').replace(/\(\?(, \?)*\)/g, '(?…)');
    let s = stats.get(key);
    if (!s) stats.set(key, (s = { sql: key, calls: 0, prepareMs: 0, runMs: 0, rows: 0 }));
    return s;
  };
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (sql, ...rest) {
    const t0 = performance.now();
    const stmt = prepare.call(this, sql, ...rest);
    const s = stat(sql);
    s.prepareMs += performance.now() - t0;
    for (const method of ['run', 'get', 'all']) {
      const original = stmt[method];
      stmt[method] = function (...args) {
        const t = performance.now();
        const result = original.apply(this, args);
        s.runMs += performance.now() - t;
        s.calls += 1;
        if (Array.isArray(result)) s.rows += result.length;
        return result;
      };
    }
    return stmt;
  };
  process.on('exit', () => {
    const list = [...stats.values()].sort((a, b) => b.prepareMs + b.runMs - (a.prepareMs + a.runMs));
    writeFileSync(out, JSON.stringify(list, null, 1));
  });
}
