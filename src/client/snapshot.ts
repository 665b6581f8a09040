/**
 * The code of a run: the project folder's files (git-tracked plus untracked-but-not-ignored
 * in a git repo, every file otherwise) as a manifest of content-addressed blobs, and the
 * repo's remote, branch, commit, dirtiness and the project's folder in it for the record.
 * Runners rebuild exactly these files, from a clone of the remote plus the changed files'
 * blobs when the remote is registered (`dstack init`), else from the blobs alone.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { CodeManifest } from '../core/api.js';
import type { ManifestEntry, RepoInfo } from '../core/records.js';
import { describeFiles, walk, withoutChainedLinkEntries, type OnLeftOut } from '../files/manifest.js';
import { uploadFiles } from '../files/transfer.js';
import { filesToUpload } from './changed-files.js';
import type { Client } from './client.js';
import { branchStatus, gitOutput as git, gitOutputOwn, mayBeGitRepo, repoPlace } from './git.js';

export interface Snapshot {
  repo: RepoInfo;
  manifest: CodeManifest;
  /** Links left out of the code: they point outside the project (the path, where it points). */
  leftOut: { path: string; link: string }[];
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
  const [listed, remote, status, prefix] = mayBeGitRepo(root)
    ? await Promise.all([
        git(root, ...listArgs),
        git(root, 'remote', 'get-url', 'origin'),
        git(root, 'status', '--porcelain=v2', '--branch'),
        git(root, 'rev-parse', '--show-prefix'),
      ])
    : [];
  const inside = home === undefined ? '' : relative(root, home);
  const homePrefix =
    inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside.split(sep).join('/') + '/' : undefined;
  const notHome = (paths: string[]) => (homePrefix ? paths.filter((p) => !p.startsWith(homePrefix)) : paths);
  const leftOut: Snapshot['leftOut'] = [];
  const onLeftOut: OnLeftOut = (path, link) => leftOut.push({ path, link });
  let files: ManifestEntry[];
  if (listed === undefined) {
    files = await describeFiles(root, notHome(await walk(root, '', new Set(['.git']))), onLeftOut);
  } else {
    Object.assign(repo, repoPlace(root, remote, prefix), branchStatus(status ?? ''));
    const listNested = (dir: string) => gitOutputOwn(join(root, dir), ...listArgs);
    files = await describeListed(root, '', listed, { listNested, notHome, onLeftOut });
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  // Each link was checked alone; a chain of them, restored together, may lead out all the same.
  return { repo, manifest: { files: withoutChainedLinkEntries(files, onLeftOut) }, leftOut };
}

interface ListedContext {
  /** `git ls-files` of the repo whose `.git` is in this folder of the project. */
  listNested: (dir: string) => Promise<string | undefined>;
  notHome: (paths: string[]) => string[];
  onLeftOut: OnLeftOut;
}

/**
 * The entries of the files git listed for the repo at `dir` ('' for the project's own). git
 * lists a submodule, or a repo nested in the project, as one path, a folder: their files are
 * the job's code too, and their edits must change its cache key, so each is listed by its own
 * git (recursively). Files git lists but that are deleted in the working tree are skipped.
 */
async function describeListed(root: string, dir: string, listed: string, ctx: ListedContext): Promise<ManifestEntry[]> {
  const base = dir ? `${dir}/` : '';
  const paths = ctx.notHome([...new Set(listed.split('\0').filter(Boolean))].map((p) => base + p));
  const files = await describeFiles(root, paths, ctx.onLeftOut);
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
