/**
 * Where the CLI's entry points are on disk, for starting them as processes (the embedded
 * server, Slurm batch jobs). They sit beside this module both in tsc's output (dist/cli/)
 * and in the bundle, whose shared chunks are written to the same folder (scripts/bundle-cli.mjs).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type EntryPoint = 'main.js' | 'runner-exec-main.js';

export function entryPoint(name: EntryPoint): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** The digest of this build (scripts/bundle-cli.mjs writes it); undefined when run from sources. */
export function buildId(): string | undefined {
  try {
    return readFileSync(fileURLToPath(new URL('./build-id', import.meta.url)), 'utf8').trim();
  } catch {
    return undefined;
  }
}
