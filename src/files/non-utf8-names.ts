/**
 * Names that are not UTF-8. Linux allows any bytes but `/` and NUL in a name; a manifest's
 * paths are JSON text, and every check on them (inside the folder, links through links) works
 * on text. Node decodes such a name with U+FFFD in place of the bad bytes, a name that is not
 * there: the file was silently left out of a save (or another file taken for it). They are
 * found here and refused, named with their bytes escaped (docs/decisions.md).
 */
import { isUtf8 } from 'node:buffer';
import { readdir } from 'node:fs/promises';
import { InvalidError } from '../core/errors.js';
import { printable, printableBytes } from '../core/printable.js';

/** How many names a message lists; the rest are counted. */
const LISTED = 5;

/** Names (or links' targets) that are not UTF-8, found under a scanned folder; `names` are printable. */
export class NonUtf8NamesError extends InvalidError {
  constructor(
    /** Escaped (`o/bad\xff.txt`, or `o/link -> bad\xff` for a link's target), relative to the scanned root. */
    readonly names: readonly string[],
    options: { context?: string; advice?: string } = {},
  ) {
    const count = names.length;
    const listed = names.slice(0, LISTED).join(', ') + (count > LISTED ? ` and ${count - LISTED} more` : '');
    const found = count === 1 ? `a name is not UTF-8: ${listed}` : `${count} names are not UTF-8: ${listed}`;
    const advice = options.advice ?? (count === 1 ? 'rename it' : 'rename them');
    super(`${options.context ? `${options.context}: ` : ''}${found} (dstack stores UTF-8 names only); ${advice}`);
  }

  /** The same names, `prefix`ed, said of `context` with `advice` (given whether there is one name). */
  explained(context: string, advice: (one: boolean) => string, prefix = ''): NonUtf8NamesError {
    const names = this.names.map((n) => prefix + n);
    return new NonUtf8NamesError(names, { context, advice: advice(names.length === 1) });
  }
}

/** A folder's entry, its name decoded. */
export interface FolderEntry {
  name: string;
  isDirectory: boolean;
}

/**
 * The entries of the folder at `path`, and apart the names that are not UTF-8 (escaped).
 * Only a folder where Node's decoding put a U+FFFD is listed again as bytes: nearly every
 * folder costs one readdir, as before.
 */
export async function listFolder(path: string): Promise<{ entries: FolderEntry[]; nonUtf8: string[] }> {
  const listed = await readdir(path, { withFileTypes: true });
  const plain = listed.map((e) => ({ name: e.name, isDirectory: e.isDirectory() }));
  if (!plain.some((e) => e.name.includes('\ufffd'))) return { entries: plain, nonUtf8: [] };
  // A U+FFFD may be a name's own (valid UTF-8, EF BF BD) or stand for bad bytes: the bytes tell.
  const entries: FolderEntry[] = [];
  const nonUtf8: string[] = [];
  for (const e of await readdir(path, { withFileTypes: true, encoding: 'buffer' })) {
    if (isUtf8(e.name)) entries.push({ name: e.name.toString('utf8'), isDirectory: e.isDirectory() });
    else nonUtf8.push(printableBytes(e.name));
  }
  return { entries, nonUtf8 };
}

/** A link's target as text; a NonUtf8NamesError naming the link (`path`, relative to the root) when it is not UTF-8. */
export function linkTarget(path: string, target: Buffer): string {
  if (!isUtf8(target)) throw new NonUtf8NamesError([`${printable(path)} -> ${printableBytes(target)}`]);
  return target.toString('utf8');
}
