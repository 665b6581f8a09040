/**
 * An artifact manifest names every file of a job's artifacts: ten thousand entries for a
 * folder of ten thousand files. Each is checked by one hand-written predicate inside zod (a
 * zod object per entry cost a re-save more than the rest of the route), and copied to
 * exactly its known fields, so nothing else is stored.
 */
import { z } from 'zod';
import type { ManifestEntry } from '../../core/records.js';

const DIGEST = /^[0-9a-f]{64}$/;

/** Relative, and no `..` segment: restores write it under their output folder. */
const insideWorkspace = (p: string) => p.length > 0 && !p.startsWith('/') && !p.split('/').includes('..');
const count = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function isManifestEntry(value: unknown): value is ManifestEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.path === 'string' &&
    insideWorkspace(e.path) &&
    count(e.size) &&
    count(e.mode) &&
    (e.digest === undefined || (typeof e.digest === 'string' && DIGEST.test(e.digest))) &&
    (e.link === undefined || typeof e.link === 'string')
  );
}

function exactly(e: ManifestEntry): ManifestEntry {
  const out: ManifestEntry = { path: e.path, size: e.size, mode: e.mode };
  if (e.digest !== undefined) out.digest = e.digest;
  if (e.link !== undefined) out.link = e.link;
  return out;
}

export const manifestEntry = z
  .custom<ManifestEntry>(isManifestEntry, {
    message:
      'a manifest entry: path (relative, without ..), size and mode (non-negative integers), and optionally digest (sha256 hex) and link',
  })
  .transform(exactly);
