/**
 * `items` in slices of at most `size`, for `in (…)` lists and multi-row inserts: a statement
 * stays far below the bound-parameter limits (SQLite 32,766; PostgreSQL 65,535).
 */
export function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

/** Values per `in (…)` list (keys, ids, run names). */
export const IN_BATCH = 500;
