/**
 * The code of a run: the project folder's files (git-tracked plus untracked-but-not-ignored
 * in a git repo, every file otherwise) as a manifest of content-addressed blobs, and the
 * repo's remote, branch, commit, dirtiness and the project's folder in it for the record.
 * Runners rebuild exactly these files, from a clone of the remote plus the changed files'
 * blobs when the remote is registered (`dstack init`), else from the blobs alone.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { CodeManifest } from '../core/api.js';
import { printable, printableBytes } from '../core/printable.js';
import type { ManifestEntry, RepoInfo } from '../core/records.js';
import { describeFiles, walk, withoutChainedLinkEntries, type OnLeftOut } from '../files/manifest.js';
import { NonUtf8NamesError } from '../files/non-utf8-names.js';
import { uploadFiles } from '../files/transfer.js';
import { filesToUpload } from './changed-files.js';
import type { Client } from './client.js';
import {
  branchStatus,
  folderIgnored,
  gitBytes,
  gitBytesOwn,
  gitOutput as git,
  mayBeGitRepo,
  repoPlace,
  untrackedPaths,
} from './git.js';

export interface Snapshot {
  repo: RepoInfo;
  manifest: CodeManifest;
  /** Links left out of the code: they point outside the project (the path, where it points). */
  leftOut: { path: string; link: string }[];
  /**
   * What of the code git does not track, as `git status` names it: files, and folders (ending
   * in `/`) whose files are all untracked; '' for the whole project. Empty outside git. A folder
   * that is a repo nested in the project is left out: its own git tracks its files.
   */
  untracked: string[];
  /**
   * The repo's folder that git ignores whole, when the project lies in one (a scratch folder of a
   * repo, a home whose dotfiles repo ignores `*`): its files are the code, as outside git.
   */
  ignoredIn?: string;
}

/**
 * `home`: dstack's own folder (DSTACK_HOME). Where it lies inside the project, its files
 * (the embedded server's database, logs, stored artifacts) are not the project's code: left
 * in, every run would snapshot them as changed and no job would ever be reused.
 */
export async function snapshotProject(root: string, home?: string): Promise<Snapshot> {
  const repo: RepoInfo = { root };
  // Outside a repo git is not started at all: a process start is a good part of a small run's time.
  // Inside one, its four calls start at once (their answers are dropped if git says it is no repo).
  const listArgs = ['ls-files', '-z', '--cached', '--others', '--exclude-standard'];
  const [listed, remote, status, prefix, ignored] = mayBeGitRepo(root)
    ? await Promise.all([
        gitBytes(root, ...listArgs),
        git(root, 'remote', 'get-url', 'origin'),
        git(root, 'status', '--porcelain=v2', '--branch', '-z'),
        git(root, 'rev-parse', '--show-prefix'),
        folderIgnored(root),
      ])
    : [];
  const inside = home === undefined ? '' : relative(root, home);
  const homePrefix =
    inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside.split(sep).join('/') + '/' : undefined;
  const notHome = (paths: string[]) => (homePrefix ? paths.filter((p) => !p.startsWith(homePrefix)) : paths);
  const leftOut: Snapshot['leftOut'] = [];
  const onLeftOut: OnLeftOut = (path, link) => leftOut.push({ path, link });
  let files: ManifestEntry[];
  let untracked: string[] = [];
  // A folder the repo ignores is no part of it: listed from git, the jobs had no code at all.
  const ignoredIn = ignored ? repoTop(root, prefix) : undefined;
  try {
    if (listed === undefined || ignoredIn !== undefined) {
      files = await describeFiles(root, notHome(await walk(root, '', new Set(['.git']))), onLeftOut);
    } else {
      Object.assign(repo, repoPlace(root, remote, prefix), branchStatus(status ?? ''));
      untracked = untrackedPaths(status ?? '', prefix?.trim()).filter(
        (path) => !path.endsWith('/') || !existsSync(join(root, path, '.git')),
      );
      const listNested = (dir: string) => gitBytesOwn(join(root, dir), ...listArgs);
      const nonUtf8: string[] = [];
      files = await describeListed(root, '', listed, { listNested, notHome, onLeftOut, nonUtf8 });
      if (nonUtf8.length > 0) throw new NonUtf8NamesError(nonUtf8);
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    }
  } catch (e) {
    if (!(e instanceof NonUtf8NamesError)) throw e;
    // Left out, the file would be missing from the job and from the cache key: refused, before anything is sent.
    const advice = (one: boolean) =>
      `rename ${one ? 'it' : 'them'}, or ` +
      (listed === undefined
        ? `move ${one ? 'it' : 'them'} out of the project`
        : `have git ignore ${one ? 'it' : 'them'} (.gitignore)`);
    throw e.explained("the project's code", advice);
  }
  // Each link was checked alone; a chain of them, restored together, may lead out all the same.
  const manifest = { files: withoutChainedLinkEntries(files, onLeftOut) };
  return { repo, manifest, leftOut, untracked, ...(ignoredIn !== undefined ? { ignoredIn } : {}) };
}

/** The top of the repo that holds `root`, from the project's folder in it (`rev-parse --show-prefix`). */
function repoTop(root: string, prefix: string | undefined): string {
  const depth = (prefix ?? '')
    .trim()
    .split('/')
    .filter((part) => part !== '').length;
  return join(root, ...Array<string>(depth).fill('..'));
}

interface ListedContext {
  /** `git ls-files -z` of the repo whose `.git` is in this folder of the project. */
  listNested: (dir: string) => Promise<Buffer | undefined>;
  notHome: (paths: string[]) => string[];
  onLeftOut: OnLeftOut;
  /** Where the listed paths that are not UTF-8 and exist go, escaped. */
  nonUtf8: string[];
}

/**
 * The entries of the files git listed for the repo at `dir` ('' for the project's own). git
 * lists a submodule, or a repo nested in the project, as one path, a folder: their files are
 * the job's code too, and their edits must change its cache key, so each is listed by its own
 * git (recursively). Files git lists but that are deleted in the working tree are skipped.
 */
async function describeListed(root: string, dir: string, listed: Buffer, ctx: ListedContext): Promise<ManifestEntry[]> {
  const base = dir ? `${dir}/` : '';
  const paths = ctx.notHome([...new Set(listedPaths(root, base, listed, ctx.nonUtf8))]);
  const files = await describeFiles(root, paths, ctx.onLeftOut).catch((e: unknown) => {
    // A link's target that is not UTF-8: named with the names found so far, in one message.
    throw e instanceof NonUtf8NamesError ? new NonUtf8NamesError([...ctx.nonUtf8, ...e.names]) : e;
  });
  if (files.length === paths.length) return files;
  const described = new Set(files.map((f) => f.path));
  for (const path of paths) {
    if (described.has(path)) continue;
    const nested = path.replace(/\/+$/, '');
    if (!lstatSync(join(root, nested), { throwIfNoEntry: false })?.isDirectory()) continue;
    // A submodule not checked out is an empty folder without `.git`: no files to take.
    if (!existsSync(join(root, nested, '.git'))) continue;
    const inner = await ctx.listNested(nested);
    if (inner !== undefined) files.push(...(await describeListed(root, nested, inner, ctx)));
  }
  return files;
}

/**
 * The paths of `git ls-files -z` output, `base` before each. Those that are not UTF-8 go to
 * `nonUtf8` (escaped) when they exist: decoded, they would name no file, and the file would
 * be skipped as one deleted in the working tree.
 */
function listedPaths(root: string, base: string, listed: Buffer, nonUtf8: string[]): string[] {
  if (isUtf8(listed))
    return listed
      .toString('utf8')
      .split('\0')
      .filter(Boolean)
      .map((p) => base + p);
  const paths: string[] = [];
  for (let start = 0; start < listed.length;) {
    const end = listed.indexOf(0, start);
    const path = listed.subarray(start, end < 0 ? listed.length : end);
    start = end < 0 ? listed.length : end + 1;
    if (path.length === 0) continue;
    if (isUtf8(path)) paths.push(base + path.toString('utf8'));
    else if (lstatSync(Buffer.concat([Buffer.from(`${root}/${base}`), path]), { throwIfNoEntry: false }))
      nonUtf8.push(printable(base) + printableBytes(path));
  }
  return paths;
}

/**
 * Upload the snapshot's files the server lacks (with a registered, pushed remote only those
 * that differ from the commit: runners clone the rest), then the manifest; returns its digest.
 */
export async function uploadSnapshot(client: Client, root: string, snapshot: Snapshot): Promise<string> {
  await uploadFiles(client, root, await filesToUpload(client, root, snapshot));
  const body = Buffer.from(JSON.stringify(snapshot.manifest));
  const digest = createHash('sha256').update(body).digest('hex');
  if ((await client.missingBlobs([digest])).length > 0) await client.putBlob(digest, body);
  return digest;
}
