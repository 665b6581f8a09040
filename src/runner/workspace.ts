/**
 * A job's workspace: the run's code (cloned or uploaded: see code/deliver.ts), each dependency's artifacts at their paths, and
 * for a resumed job its own saved artifacts, so it continues from its checkpoint.
 */
import { writeFileSync } from 'node:fs';
import { rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunnerClient } from '../client/runner-client.js';
import type { Assignment } from '../core/api.js';
import type { ArtifactManifest } from '../core/records.js';
import { dependencyArtifactNotes } from '../core/dependency-notes.js';
import { filesAndSize, formatSize } from '../core/resources.js';
import { retryNotes } from '../files/progress-notes.js';
import { makeFolders } from '../files/raw-fs.js';
import type { TransferStats } from '../files/transfer.js';
import { explainFullDisk } from '../files/refused-write.js';
import { WriteBlockedError } from '../files/write-blocked.js';
import { deliverCode } from './code/deliver.js';
import { containerRoot, downloadManifest } from './container-root.js';
import type { Trash } from './trash.js';
import { makeFolder } from '../files/make-folder.js';

/**
 * Files of `manifest` that an earlier dependency wrote with other content: the later one in
 * `depends-on` replaces them, said once per dependency. `written` gains `manifest`'s files.
 */
function replacedFiles(
  manifest: ArtifactManifest,
  written: Map<string, { content: string; ref: string }>,
  ref: string,
): string | undefined {
  const clashes: string[] = [];
  for (const file of manifest.artifacts.flatMap((a) => a.files)) {
    if (file.folder) continue; // no content: two dependencies' empty folders are one
    const content = file.digest ?? `-> ${file.link}`;
    const earlier = written.get(file.path);
    if (earlier && earlier.content !== content) clashes.push(`${file.path} (from ${earlier.ref})`);
    written.set(file.path, { content, ref });
  }
  if (clashes.length === 0) return undefined;
  const named = clashes.slice(0, 3).join(', ') + (clashes.length > 3 ? ` and ${clashes.length - 3} more` : '');
  return `artifacts of ${ref} replace files an earlier dependency also saved, with other content: ${named} (the later in depends-on wins)`;
}

export function workspacePath(workRoot: string, jobId: string): string {
  return join(workRoot, 'jobs', jobId, 'workspace');
}

/**
 * The job's workspace, made afresh. `signal` ends its preparation where it is (a download, a
 * wait between retries): the job was stopped or aborted before its commands started.
 */
export async function prepareWorkspace(
  client: RunnerClient,
  workRoot: string,
  assignment: Assignment,
  note: (text: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  const dir = workspacePath(workRoot, assignment.job.id);
  // A write the disk refuses says what it was for and which folder filled (refused-write.ts).
  const explained = <T>(doing: string, step: () => Promise<T>): Promise<T> =>
    step().catch((e: unknown) => {
      throw explainFullDisk(e, dir, doing);
    });
  // Normally new: mkdir says whether it created the folder, sparing a removal per job.
  await explained('making the workspace', async () => {
    if (makeWorkspace(dir)) return;
    await rm(dir, { recursive: true, force: true }); // left by an earlier attempt at this job
    await makeFolder(dir);
  });
  const total: TransferStats = { files: 0, bytes: 0 };
  const add = (s: TransferStats) => {
    total.files += s.files;
    total.bytes += s.bytes;
  };
  add(await explained("restoring the run's code", () => deliverCode(client, workRoot, dir, assignment, note, signal)));
  const root = containerRoot(workRoot, assignment.job.id);
  const written = new Map<string, { content: string; ref: string }>(); // by the dependencies so far
  for (const dep of assignment.dependencies) {
    const replaced = replacedFiles(dep.manifest, written, dep.job.ref);
    if (replaced) note(replaced);
    // Its size: what has to fit, for a disk that cannot hold it.
    const doing = `downloading ${formatSize(manifestBytes(dep.manifest))} of artifacts of ${dep.job.ref} (${dep.job.id})`;
    // Storage out of reach: the job's log says why it waits, not the runner's alone.
    const retries = retryNotes(`downloading artifacts of ${dep.job.ref} (${dep.job.id})`, note);
    const stats = await explained(doing, () =>
      downloadManifest(client, dir, root, dep.manifest, signal, retries),
    ).catch((e: unknown) => {
      if (!(e instanceof WriteBlockedError)) throw e;
      // The job's own files collide: only its config can change that.
      throw e.explained(`${dep.job.ref}'s artifact file`, (blocker) =>
        blocker === 'no permission'
          ? undefined
          : 'the code or an earlier dependency has a path there: rename the artifact or that path',
      );
    });
    for (const line of dependencyArtifactNotes(dep.job, dep.manifest, stats)) note(line);
    add(stats);
  }
  if (assignment.restore) {
    const restore = assignment.restore;
    const stats = await explained(`restoring this job's saved artifacts (${formatSize(manifestBytes(restore))})`, () =>
      downloadManifest(client, dir, root, restore, signal, retryNotes("restoring this job's saved artifacts", note)),
    );
    note(`restored this job's saved artifacts: ${filesAndSize(stats.files, stats.bytes, stats.folders)}`);
  }
  return dir;
}

/**
 * Create the job's folder and its workspace in it; false when the workspace was there already.
 * Two plain mkdir calls, the runner's `jobs` folder nearly always being there (raw-fs.ts makeFolders).
 */
function makeWorkspace(dir: string): boolean {
  makeFolders(dirname(dir));
  return makeFolders(dir) !== undefined;
}

/** Where a job's log lines are spooled before they are sent. */
export function spoolPath(workRoot: string, jobId: string): string {
  return join(workRoot, 'jobs', jobId, 'log-spool.jsonl');
}

/**
 * The job's process group, so that a runner restarting after a crash can end it (a few bytes:
 * written in place, raw-fs.ts). Written empty for a job without one here (a container): the
 * file also says that the job's commands started (leftovers.ts).
 */
export function recordPid(workRoot: string, jobId: string, pid: number | undefined): void {
  writeFileSync(pidPath(workRoot, jobId), pid === undefined ? '' : String(pid));
}

export function pidPath(workRoot: string, jobId: string): string {
  return join(workRoot, 'jobs', jobId, 'pid');
}

/**
 * Removes the job's folder: workspace, spool, pid file and anything else the job left there;
 * with a trash, moves it there to be removed off this thread.
 */
export async function removeWorkspace(workRoot: string, jobId: string, trash?: Trash): Promise<void> {
  const dir = join(workRoot, 'jobs', jobId);
  if (trash) return trash.discard(dir);
  // The files this module knows and the workspace at once, where one recursive rm of the
  // folder goes one call after another; anything else left beside them, the recursive rm.
  const gone = (e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  };
  try {
    await Promise.all([
      unlink(pidPath(workRoot, jobId)).catch(gone),
      unlink(spoolPath(workRoot, jobId)).catch(gone),
      rm(workspacePath(workRoot, jobId), { recursive: true, force: true }),
    ]);
    await rmdir(dir).catch(gone);
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The bytes of a manifest's files. */
function manifestBytes(manifest: ArtifactManifest): number {
  return manifest.artifacts.reduce((n, a) => a.files.reduce((m, f) => m + f.size, n), 0);
}
