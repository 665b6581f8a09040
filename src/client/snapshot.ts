/**
 * The code of a run: the project folder's files (git-tracked plus untracked-but-not-ignored
 * in a git repo, every file otherwise), uploaded as content-addressed blobs, and the repo's
 * remote, branch, commit and dirtiness for the record.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import type { CodeManifest } from '../core/api.js';
import type { RepoInfo } from '../core/records.js';
import { describeFiles, walk } from '../files/manifest.js';
import { uploadFiles } from '../files/transfer.js';
import type { Client } from './client.js';

const exec = promisify(execFile);

async function git(root: string, ...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await exec('git', ['-C', root, ...args], { maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch {
    return undefined;
  }
}

export interface Snapshot {
  repo: RepoInfo;
  manifest: CodeManifest;
}

export async function snapshotProject(root: string): Promise<Snapshot> {
  const listed = await git(root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard');
  const repo: RepoInfo = { root };
  let paths: string[];
  if (listed === undefined) {
    paths = await walk(root, '', new Set(['.git']));
  } else {
    paths = [...new Set(listed.split('\0').filter(Boolean))].sort();
    const [remote, branch, commit, status] = await Promise.all([
      git(root, 'remote', 'get-url', 'origin'),
      git(root, 'rev-parse', '--abbrev-ref', 'HEAD'),
      git(root, 'rev-parse', '--verify', '-q', 'HEAD'),
      git(root, 'status', '--porcelain'),
    ]);
    if (remote?.trim()) repo.remote = remote.trim();
    if (branch?.trim() && branch.trim() !== 'HEAD') repo.branch = branch.trim();
    if (commit?.trim()) repo.commit = commit.trim();
    repo.dirty = (status ?? '').trim() !== '';
  }
  // Files git lists but that are deleted in the working tree are skipped by describeFiles.
  return { repo, manifest: { files: await describeFiles(root, paths) } };
}

/** Upload the snapshot's files the server lacks, then the manifest itself; returns its digest. */
export async function uploadSnapshot(client: Client, root: string, snapshot: Snapshot): Promise<string> {
  await uploadFiles(client, root, snapshot.manifest.files);
  const body = Buffer.from(JSON.stringify(snapshot.manifest));
  const digest = createHash('sha256').update(body).digest('hex');
  if ((await client.missingBlobs([digest])).length > 0) await client.putBlob(digest, body);
  return digest;
}
