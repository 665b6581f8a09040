/**
 * zod for config/, loaded on first use. A project of plain workflows is read without it
 * (simple-workflow.ts), and loading it cost `dstack run --help` and `--dry-run` about 60 ms.
 * Validation is synchronous, so zod comes by `require` (its CommonJS build); every config
 * schema is made from this one instance, which issues.ts's `instanceof` checks rely on.
 */
import { createRequire } from 'node:module';
import type * as Zod from 'zod';

let lib: typeof Zod.z | undefined;

export function zod(): typeof Zod.z {
  lib ??= (createRequire(import.meta.url)('zod') as typeof Zod).z;
  return lib;
}

/** A value made on first use: a schema built from zod(). */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
