/**
 * A note at submission when files git does not track make a large part of the run's code: they
 * go into every run's snapshot (hashed, uploaded where they changed, counted for the cache), and
 * a data file left out of .gitignore did so without a word.
 */
import type { ManifestEntry } from '../core/records.js';
import { formatSize } from '../core/resources.js';
import { printable } from './format.js';

/** Untracked files of more bytes than this, together, are named at submission. */
export const UNTRACKED_NOTE_BYTES = 50_000_000;
/** The largest untracked paths a note names. */
const NAMED = 3;

/**
 * The note, or undefined when the untracked files come to `UNTRACKED_NOTE_BYTES` or less.
 * `untracked`: as `git status` names them (Snapshot.untracked): files, folders ending in `/`, ''
 * for the whole project; each is named with the bytes of the code's files under it.
 */
export function untrackedNote(files: readonly ManifestEntry[], untracked: readonly string[]): string | undefined {
  if (untracked.length === 0) return undefined;
  const named = new Set(untracked);
  const sizes = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    let under = untrackedAbove(file.path, named);
    if (under === undefined || file.size === 0) continue;
    // The whole project untracked: its top-level files and folders are what to name.
    if (under === '') under = file.path.includes('/') ? file.path.slice(0, file.path.indexOf('/') + 1) : file.path;
    sizes.set(under, (sizes.get(under) ?? 0) + file.size);
    total += file.size;
  }
  if (total <= UNTRACKED_NOTE_BYTES) return undefined;
  const largest = [...sizes].sort((a, b) => b[1] - a[1]);
  const shown = largest.slice(0, NAMED).map(([path, size]) => `${printable(path)} ${formatSize(size)}`);
  const more = largest.length > NAMED ? `, and ${largest.length - NAMED} more` : '';
  return (
    `files git does not track add ${formatSize(total)} to the code of every run (${shown.join(', ')}${more}); ` +
    'if jobs do not need them, have git ignore them (.gitignore)'
  );
}

/** The path of `named` that is `path` or a folder above it, if any. */
function untrackedAbove(path: string, named: ReadonlySet<string>): string | undefined {
  if (named.has(path)) return path;
  if (named.has('')) return '';
  for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
    const folder = path.slice(0, slash + 1);
    if (named.has(folder)) return folder;
  }
  return undefined;
}

/** A project in a folder its git repo ignores whole: what the run's code is, and why the run has no commit. */
export function ignoredNote(root: string, repo: string): string {
  return (
    `the git repository at ${printable(repo)} ignores every file of the project folder ${printable(root)}, so the ` +
    "run's code is every file in the folder, as outside git (and no commit is recorded)"
  );
}
