/**
 * An artifact manifest names every file of a job's artifacts: ten thousand entries for a
 * folder of ten thousand files. The list is checked in one pass by a hand-written predicate
 * (zod per entry cost a re-save more than the rest of the route), and an entry is stored with
 * exactly its known fields: one that carries others (a newer runner's) is copied without them.
 */
import { z } from 'zod';
import { PERMISSION_BITS } from '../../core/file-modes.js';
import type { ManifestEntry } from '../../core/records.js';

const DIGEST = /^[0-9a-f]{64}$/;
const DOT_DOT = /(?:^|\/)\.\.(?:\/|$)/;

/** Relative, and no `..` segment: restores write it under their output folder. */
const insideWorkspace = (p: string) => p.length > 0 && !p.startsWith('/') && !DOT_DOT.test(p);
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
    (e.link === undefined || typeof e.link === 'string') &&
    (e.folder === undefined || (e.folder === true && e.digest === undefined && e.link === undefined && e.size === 0))
  );
}

const FIELDS = new Set(['path', 'size', 'mode', 'digest', 'link', 'folder']);

function onlyKnownFields(e: object): boolean {
  for (const key in e) if (!FIELDS.has(key)) return false;
  return true;
}

function exactly(e: ManifestEntry): ManifestEntry {
  const out: ManifestEntry = { path: e.path, size: e.size, mode: e.mode };
  if (e.digest !== undefined) out.digest = e.digest;
  if (e.link !== undefined) out.link = e.link;
  if (e.folder !== undefined) out.folder = e.folder;
  return out;
}

/** A manifest's file list; the first bad entry is reported with its index. */
export const manifestFiles = z
  .custom<unknown[]>(Array.isArray, 'a list of manifest entries')
  .transform((files, ctx) => {
    for (let i = 0; i < files.length; i++) {
      const e = files[i];
      if (!isManifestEntry(e)) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message:
            'a manifest entry: path (relative, without ..), size and mode (non-negative integers), and optionally digest (sha256 hex) and link, or folder (true, with size 0 and neither)',
        });
        return z.NEVER;
      }
      if (e.mode > PERMISSION_BITS) {
        // Setuid, setgid, sticky or a file type: no scan records them, and no restore applies them.
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `'${e.path}' has mode 0o${e.mode.toString(8)}: a manifest entry's mode is permission bits only (0o777 at most)`,
        });
        return z.NEVER;
      }
      if (!onlyKnownFields(e)) files[i] = exactly(e);
    }
    return files as ManifestEntry[];
  });
