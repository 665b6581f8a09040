/**
 * Absolute artifact paths (a conda env under /opt/conda) of jobs in containers: each is a
 * folder of the job's on the runner, bind-mounted at that path, so that what the job writes
 * there is saved like any artifact and restored for the jobs that depend on it.
 */
import { join } from 'node:path';
import type { RetryWatcher } from '../client/retry.js';
import type { RunnerClient } from '../client/runner-client.js';
import type { Assignment } from '../core/api.js';
import type { ArtifactManifest } from '../core/records.js';
import type { TransferStats } from '../files/transfer.js';
import { downloadForJob } from './downloads.js';
import type { Mount } from './executors/executor.js';
import { makeFolder } from '../files/make-folder.js';

/** Where a job's absolute artifact paths live on the runner: `/opt/x` is `<root>/opt/x`. */
export function containerRoot(workRoot: string, jobId: string): string {
  return join(workRoot, 'jobs', jobId, 'container');
}

/** An artifact path inside its root: relative to the workspace, or to the container root when absolute. */
export function artifactLocation(path: string, workspace: string, root: string): { root: string; path: string } {
  return path.startsWith('/') ? { root, path: path.replace(/^\/+/, '') } : { root: workspace, path };
}

function absolutePaths(manifest: ArtifactManifest | undefined): string[] {
  return (manifest?.artifacts ?? []).map((a) => a.path).filter((p) => p.startsWith('/'));
}

/**
 * The mounts for a job's container: its own absolute artifact paths and those of the jobs it
 * depends on (and of its saved artifacts when resumed). A path inside another is already visible.
 */
export function containerMounts(assignment: Assignment, root: string): Mount[] {
  const paths = new Set([
    ...assignment.job.spec.artifacts.filter((p) => p.startsWith('/')),
    ...assignment.dependencies.flatMap((d) => absolutePaths(d.manifest)),
    ...absolutePaths(assignment.restore),
  ]);
  const sorted = [...paths].sort((a, b) => a.length - b.length);
  const kept = sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(q + '/')));
  return kept.map((p) => ({ host: join(root, p), container: p }));
}

/**
 * Download a manifest's files for a job: relative artifacts into its workspace, absolute ones
 * into its container root (from where they are mounted at their paths). `signal` ends it;
 * `retries` hears of its requests retried (the job's log says why it waits).
 */
export async function downloadManifest(
  client: RunnerClient,
  workspace: string,
  root: string,
  manifest: ArtifactManifest,
  signal?: AbortSignal,
  retries?: RetryWatcher,
): Promise<TransferStats> {
  const inWorkspace = manifest.artifacts.filter((a) => !a.path.startsWith('/')).flatMap((a) => a.files);
  const inContainer = manifest.artifacts.filter((a) => a.path.startsWith('/')).flatMap((a) => a.files);
  const stats = await downloadForJob(client, workspace, inWorkspace, signal, retries);
  if (inContainer.length === 0) return stats;
  await makeFolder(root);
  const more = await downloadForJob(client, root, inContainer, signal, retries);
  const folders = (stats.folders ?? 0) + (more.folders ?? 0);
  return { files: stats.files + more.files, bytes: stats.bytes + more.bytes, ...(folders > 0 && { folders }) };
}
