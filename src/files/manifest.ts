/** Building manifests: walking folders, hashing files, for code snapshots and artifacts. */
import { lstatSync, readlinkSync, type BigIntStats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { forEachLimit } from '../core/concurrency.js';
import { printable } from '../core/printable.js';
import type { ManifestEntry } from '../core/records.js';
import { readFailure } from './file-jobs.js';
import { fileJob } from './file-workers.js';
import type { HashCache } from './hash-cache.js';
import { inSlices } from './raw-fs.js';
import { linksLeadingOut } from './link-resolution.js';
import { linkTarget, listFolder, NonUtf8NamesError } from './non-utf8-names.js';
import { isInside } from './safe-path.js';
import { isDenied, mayRead, UnreadablePathError } from './unreadable.js';

/** Files hashed at once: each big one on a worker thread of its own (file-workers.ts), small ones in place. */
const HASH_CONCURRENCY = 6;

/** The sha256 of `path`'s `size` bytes (InvalidError naming `label` when it has fewer). */
export async function hashFile(path: string, size: number, label = path): Promise<string> {
  const { digest, failure } = await fileJob({ op: 'hash-file', path, size });
  if (failure) throw readFailure(label, failure);
  return digest!;
}

/** Entries for the given files under `root` (paths relative to it, `/`-separated). Missing files are skipped. */
export async function describeFiles(
  root: string,
  paths: readonly string[],
  onLeftOut?: OnLeftOut,
  concurrency = 16,
): Promise<ManifestEntry[]> {
  const out: (ManifestEntry | undefined)[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      out[i] = await describe(root, paths[i]!, root, onLeftOut);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out.filter((e): e is ManifestEntry => e !== undefined);
}

/**
 * lstat with nanosecond times, undefined when it fails (but for a refusal when `strict`);
 * synchronous (see inSlices), one per file of a folder of thousands.
 */
function lstatBig(path: string, strict = false): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    if (strict && isDenied(e)) throw e;
    return undefined;
  }
}

/** A file, link or empty folder found under an artifact path, before its content is hashed. */
export interface Scanned {
  /** The entry; files have no digest yet. */
  entry: ManifestEntry;
  /** A file's lstat (nanosecond times), which keys the hash cache; absent for links and folders. */
  info?: BigIntStats;
}

/** Told of a link left out of a scan because it points outside its folder (its path, where it points). */
export type OnLeftOut = (path: string, link: string) => void;

/**
 * One entry, not hashed; a symlink is kept as a link only when it points inside `boundary`
 * (the artifact folder), otherwise it is left out (`onLeftOut`): nothing outside is ever read.
 * A folder is an entry only with `options.folders` (artifacts; a code snapshot has none, as git).
 * `options.strict`: a file this process may not read (or a folder it may not look into) is an
 * UnreadablePathError, not a file left out or a failure at its upload.
 */
function scan(
  root: string,
  path: string,
  boundary: string,
  onLeftOut?: OnLeftOut,
  options: { folders?: boolean; strict?: boolean; rootIsSlash?: boolean } = {},
): Scanned | undefined {
  const full = join(root, path);
  let info;
  try {
    info = lstatBig(full, options.strict);
  } catch (e) {
    throw new UnreadablePathError(posix.dirname(path), { cause: e }); // its folder may be listed, not looked into
  }
  if (!info) return undefined;
  if (info.isSymbolicLink()) {
    let target;
    try {
      target = readlinkSync(full, { encoding: 'buffer' });
    } catch {
      return undefined; // gone since the lstat
    }
    const link = linkTarget(path, target); // a target that is not UTF-8 would be restored pointing elsewhere
    // In a container's tree, `/hf/x -> /hf/blobs/1` is `x -> blobs/1`: restored anywhere, it points the same.
    const kept =
      options.rootIsSlash && link.startsWith('/') ? posix.relative(posix.dirname(`/${path}`), link) || '.' : link;
    if (kept.startsWith('/') || !isInside(boundary, join(dirname(full), kept))) return void onLeftOut?.(path, link);
    return { entry: { path, size: 0, mode: 0o777, link: kept } };
  }
  if (options.folders && info.isDirectory())
    return { entry: { path, size: 0, mode: Number(info.mode) & 0o777, folder: true } };
  if (!info.isFile()) return undefined;
  if (options.strict && !mayRead(full, info)) throw new UnreadablePathError(path);
  return { entry: { path, size: Number(info.size), mode: Number(info.mode) & 0o777 }, info };
}

/** The entry with its digest, from `cache` when it knows the file unchanged, else read and hashed. */
export async function hashScanned(root: string, { entry, info }: Scanned, cache?: HashCache): Promise<ManifestEntry> {
  if (!info) return entry;
  entry.digest = cache?.get(entry.path, info);
  if (entry.digest === undefined) {
    const hashedAt = Date.now();
    entry.digest = await hashFile(join(root, entry.path), entry.size, entry.path);
    cache?.set(entry.path, info, entry.digest, hashedAt);
  }
  return entry;
}

async function describe(
  root: string,
  path: string,
  boundary: string,
  onLeftOut?: OnLeftOut,
): Promise<ManifestEntry | undefined> {
  const found = scan(root, path, boundary, onLeftOut);
  return found && hashScanned(root, found);
}

/**
 * Every file under `dir` (relative to `root`), skipping folders named in `skip`; with
 * `folders`, every folder below `dir` too, each just before what it holds. A name that is not
 * UTF-8 anywhere below is a NonUtf8NamesError naming them all, once the walk is over.
 */
export async function walk(
  root: string,
  dir = '',
  skip: ReadonlySet<string> = new Set(),
  folders = false,
): Promise<string[]> {
  const out: string[] = [];
  const nonUtf8: string[] = [];
  await walkInto(root, dir, skip, folders, out, nonUtf8);
  if (nonUtf8.length > 0) throw new NonUtf8NamesError(nonUtf8);
  return out;
}

async function walkInto(
  root: string,
  dir: string,
  skip: ReadonlySet<string>,
  folders: boolean,
  out: string[],
  nonUtf8: string[],
): Promise<void> {
  const listed = await listFolder(join(root, dir));
  for (const name of listed.nonUtf8) nonUtf8.push(dir ? `${printable(dir)}/${name}` : name);
  for (const entry of listed.entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = dir ? posix.join(dir, entry.name) : entry.name;
    if (entry.isDirectory) {
      if (skip.has(entry.name)) continue;
      if (folders) out.push(rel);
      await walkInto(root, rel, skip, folders, out, nonUtf8);
    } else out.push(rel);
  }
}

/**
 * `found` (in walk's order: a folder just before what it holds) without the folders that
 * have an entry below them: those are made for their entries. Only empty ones need an entry,
 * and a folder whose contents were all left out (links that lead out, sockets) counts as empty.
 */
function withoutImpliedFolders(found: readonly Scanned[]): Scanned[] {
  const kept: Scanned[] = [];
  let next: string | undefined; // the path of the entry kept after this one
  for (let i = found.length - 1; i >= 0; i--) {
    const { entry } = found[i]!;
    // What a folder holds comes right after it: the next entry kept is inside it, or nothing is.
    if (entry.folder && next?.startsWith(`${entry.path}/`)) continue;
    kept.push(found[i]!);
    next = entry.path;
  }
  return kept.reverse();
}

/** An artifact path's scan, before the folders implied by what they hold are dropped (artifactEntries). */
export interface ArtifactScan {
  /** The artifact path as scanned, relative to the root. */
  artifact: string;
  /** Where its links must land, relative to the root: the artifact's folder, or a file's own folder. */
  boundary: string;
  /** Every file, link and folder found, in walk's order (a folder just before what it holds). */
  found: Scanned[];
  /** The artifact folder's mode, when it is a folder: an entry itself when nothing is saved below it. */
  folderMode?: number;
  /** Told of each link left out, here or by withoutChainedLinks. */
  onLeftOut?: OnLeftOut;
}

/**
 * The files, links and empty folders of an artifact path inside a workspace (a file, or
 * everything under a folder), in path order, not hashed; undefined when the path does not
 * exist, none (and `onLeftOut`) when a link on it leads out of the workspace. A folder with
 * nothing saved below it is an entry itself, the artifact's own folder too. Its links are
 * followed through each other (withoutChainedLinks); a job's save does that over all its artifacts.
 */
export async function scanArtifact(
  workspace: string,
  artifact: string,
  onLeftOut?: OnLeftOut,
): Promise<Scanned[] | undefined> {
  const scan = await scanArtifactPath(workspace, artifact, onLeftOut);
  return scan && artifactEntries(withoutChainedLinks([scan])[0]!);
}

/**
 * scanArtifact's walk: what an artifact path holds, each link checked alone; undefined when it
 * does not exist. `rootIsSlash`: `workspace` holds a container's `/` (an absolute artifact's), in
 * which a link's absolute target is read, and saved relative when it stays inside the artifact.
 */
export async function scanArtifactPath(
  workspace: string,
  artifact: string,
  onLeftOut?: OnLeftOut,
  rootIsSlash = false,
): Promise<ArtifactScan | undefined> {
  const full = join(workspace, artifact);
  let info, real, realRoot;
  try {
    [info, real, realRoot] = await Promise.all([stat(full), realpath(full), realpath(workspace)]);
  } catch (e) {
    if (isDenied(e)) throw new UnreadablePathError(artifact, { cause: e });
    return undefined;
  }
  const scanned = (boundary: string, found: Scanned[], folderMode?: number): ArtifactScan => ({
    artifact,
    boundary: relativePosix(workspace, boundary),
    found,
    ...(folderMode !== undefined && { folderMode }),
    ...(onLeftOut && { onLeftOut }),
  });
  // The path itself, or a folder on it, may be a link: followed out of the workspace (or the
  // container's root), it would upload the runner's own files, which a container cannot even see.
  if (!isInside(realRoot, real)) {
    onLeftOut?.(artifact, real);
    return scanned(full, []);
  }
  if (!info.isDirectory()) {
    const found = scan(workspace, artifact, dirname(full), onLeftOut, { strict: true, rootIsSlash });
    return scanned(dirname(full), found ? [found] : []);
  }
  // Each folder costs an lstat (its mode) beside walk's readdir; a file costs nothing more.
  const paths = await walk(workspace, artifact, undefined, true).catch(unreadableIn(workspace));
  const out = await inSlices(paths, (path) =>
    scan(workspace, path, full, onLeftOut, { folders: true, strict: true, rootIsSlash }),
  );
  // The artifact's folder was stat'ed above, through a link on its path if any (that stays inside).
  return scanned(
    full,
    out.filter((e): e is Scanned => e !== undefined),
    info.mode & 0o777,
  );
}

/**
 * The scans without each link that leads out of its artifact once followed through the other
 * links kept (a job's artifacts are restored together, in one folder), each told to its
 * scan's `onLeftOut`. Each link was checked alone as it was found; a chain of them may still
 * lead out: with `out/a/y -> ..` (out), `out/a/x -> y/..` is out/a as text, the root through y.
 */
export function withoutChainedLinks(scans: readonly ArtifactScan[]): ArtifactScan[] {
  const links = scans.flatMap((scan) =>
    scan.found.flatMap((found) => {
      const { path, link } = found.entry;
      return link === undefined ? [] : [{ path, link, boundary: scan.boundary, found }];
    }),
  );
  if (links.length === 0) return [...scans];
  const out = new Set(linksLeadingOut(links).map((l) => l.found));
  if (out.size === 0) return [...scans];
  return scans.map((scan) => {
    const found = scan.found.filter((f) => !out.has(f));
    for (const f of scan.found) if (out.has(f)) scan.onLeftOut?.(f.entry.path, f.entry.link!);
    return { ...scan, found };
  });
}

/** A code snapshot's `files` without each link that leads out of its root through the others (withoutChainedLinks). */
export function withoutChainedLinkEntries(files: ManifestEntry[], onLeftOut?: OnLeftOut): ManifestEntry[] {
  if (!files.some((f) => f.link !== undefined)) return files;
  const scan: ArtifactScan = { artifact: '', boundary: '', found: files.map((entry) => ({ entry })) };
  return withoutChainedLinks([{ ...scan, ...(onLeftOut && { onLeftOut }) }])[0]!.found.map((f) => f.entry);
}

/**
 * An artifact's entries, in path order: its files and links, and its empty folders (the
 * artifact's own folder too when nothing is saved below it). A folder whose contents were all
 * left out (links that lead out, sockets) counts as empty.
 */
export function artifactEntries({ artifact, found, folderMode }: ArtifactScan): Scanned[] {
  if (folderMode === undefined) return found;
  const kept = withoutImpliedFolders(found);
  if (kept.length === 0) kept.push({ entry: { path: artifact, size: 0, mode: folderMode, folder: true } });
  return kept;
}

/** A folder under `root` that could not be listed, named relative to it; other errors as they are. */
function unreadableIn(root: string): (error: unknown) => never {
  return (error) => {
    const path = (error as NodeJS.ErrnoException).path;
    if (!isDenied(error) || path === undefined) throw error;
    throw new UnreadablePathError(relativePosix(root, path), { cause: error });
  };
}

/**
 * The files of an artifact path inside a workspace: a file, or everything under a folder.
 * With a `cache`, files unchanged since they were last hashed are not read again.
 */
export async function describeArtifact(
  workspace: string,
  artifact: string,
  cache?: HashCache,
): Promise<ManifestEntry[] | undefined> {
  const found = await scanArtifact(workspace, artifact);
  if (found === undefined) return undefined;
  await forEachLimit(found, HASH_CONCURRENCY, async (f) => void (await hashScanned(workspace, f, cache)));
  return found.map((f) => f.entry);
}

export function relativePosix(root: string, path: string): string {
  return relative(root, path).split('\\').join('/');
}
