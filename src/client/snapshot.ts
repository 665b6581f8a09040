/**
 * The code of a run: the project folder's files (git-tracked plus untracked-but-not-ignored
 * in a git repo, every file otherwise) as a manifest of content-addressed blobs, and the
 * repo's remote, branch, commit, dirtiness and the project's folder in it for the record.
 * Runners rebuild exactly these files, from a clone of the remote plus the changed files'
 * blobs when the remote is registered (`dstack init`), else from the blobs alone.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, relative, sep } from 'node:path';
import type { CodeManifest } from '../core/api.js';
import type { RepoInfo } from '../core/records.js';
import { describeFiles, walk } from '../files/manifest.js';
import { uploadFiles } from '../files/transfer.js';
import { filesToUpload } from './changed-files.js';
import type { Client } from './client.js';
import { branchStatus, gitOutput as git, mayBeGitRepo, repoPlace } from './git.js';

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
  const [listed, remote, status, prefix] = mayBeGitRepo(root)
    ? await Promise.all([
        git(root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'),
        git(root, 'remote', 'get-url', 'origin'),
        git(root, 'status', '--porcelain=v2', '--branch'),
        git(root, 'rev-parse', '--show-prefix'),
      ])
    : [];
  let paths: string[];
  if (listed === undefined) {
    paths = await walk(root, '', new Set(['.git']));
  } else {
    paths = [...new Set(listed.split('\0').filter(Boolean))].sort();
    Object.assign(repo, repoPlace(root, remote, prefix), branchStatus(status ?? ''));
  }
  const inside = home === undefined ? '' : relative(root, home);
  if (inside !== '' && !inside.startsWith('..') && !isAbsolute(inside)) {
    const prefix = inside.split(sep).join('/') + '/';
    paths = paths.filter((p) => !p.startsWith(prefix));
  }
  // Files git lists but that are deleted in the working tree are skipped by describeFiles.
  const leftOut: Snapshot['leftOut'] = [];
  const files = await describeFiles(root, paths, (path, link) => leftOut.push({ path, link }));
  return { repo, manifest: { files }, leftOut };
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
