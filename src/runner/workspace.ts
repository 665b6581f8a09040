/**
 * A job's workspace: the run's code, each dependency's artifacts at their paths, and
 * for a resumed job its own saved artifacts, so it continues from its checkpoint.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import type { Client } from '../client/client.js';
import type { Assignment, CodeManifest } from '../core/api.js';
import type { ArtifactManifest } from '../core/records.js';
import { downloadFiles, type TransferStats } from '../files/transfer.js';

export function workspacePath(workRoot: string, jobId: string): string {
  return join(workRoot, 'jobs', jobId, 'workspace');
}

function filesOf(manifest: ArtifactManifest) {
  return manifest.artifacts.flatMap((a) => a.files);
}

export async function prepareWorkspace(
  client: Client,
  workRoot: string,
  assignment: Assignment,
  note: (text: string) => void,
): Promise<string> {
  const dir = workspacePath(workRoot, assignment.job.id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const code = JSON.parse(await text(await client.getBlob(assignment.run.codeDigest))) as CodeManifest;
  const total: TransferStats = { files: 0, bytes: 0 };
  const add = (s: TransferStats) => {
    total.files += s.files;
    total.bytes += s.bytes;
  };
  add(await downloadFiles(client, dir, code.files));
  for (const dep of assignment.dependencies) {
    const stats = await downloadFiles(client, dir, filesOf(dep.manifest));
    note(`artifacts of ${dep.job.workflow} (${dep.job.id}): ${stats.files} files, ${stats.bytes} bytes`);
    add(stats);
  }
  if (assignment.restore) {
    const stats = await downloadFiles(client, dir, filesOf(assignment.restore));
    note(`restored this job's saved artifacts: ${stats.files} files, ${stats.bytes} bytes`);
  }
  return dir;
}

/** The job's process group, so that a runner restarting after a crash can end it. */
export async function recordPid(workRoot: string, jobId: string, pid: number): Promise<void> {
  await writeFile(join(workRoot, 'jobs', jobId, 'pid'), String(pid));
}

/**
 * End the process groups of jobs a previous runner process left behind (it crashed or was
 * killed), and remove their workspaces. The server has failed those jobs as `runner lost`.
 */
export async function cleanLeftovers(workRoot: string): Promise<string[]> {
  const dir = join(workRoot, 'jobs');
  const ids = await readdir(dir).catch(() => [] as string[]);
  for (const id of ids) {
    const pid = Number(await readFile(join(dir, id, 'pid'), 'utf8').catch(() => ''));
    if (pid > 0) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(join(dir, id), { recursive: true, force: true });
  }
  return ids;
}

export async function removeWorkspace(workRoot: string, jobId: string): Promise<void> {
  await rm(join(workRoot, 'jobs', jobId), { recursive: true, force: true });
}
