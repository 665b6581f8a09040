/** Saving a job's artifacts: describe each declared path, upload new blobs, then the manifest. */
import type { Client } from '../client/client.js';
import type { ArtifactManifest, ManifestEntry } from '../core/records.js';
import { HashCache } from '../files/hash-cache.js';
import { describeArtifact } from '../files/manifest.js';
import { progressNotes } from '../files/progress-notes.js';
import { uploadFiles } from '../files/transfer.js';

/**
 * Digests of the files this runner saved before: a job that saves the same big folder again
 * (a checkpoint with one file changed) reads only what changed. Shared by the runner's jobs.
 */
const hashes = new HashCache();

export async function saveArtifacts(
  client: Client,
  jobId: string,
  workspace: string,
  paths: readonly string[],
  note: (text: string) => void,
  /** Where absolute artifact paths (in the job's container) are kept: `/opt/x` is `<containerRoot>/opt/x`. */
  containerRoot?: string,
): Promise<ArtifactManifest> {
  const manifest: ArtifactManifest = { artifacts: [] };
  const byRoot = new Map<string, ManifestEntry[]>();
  for (const path of paths) {
    const absolute = path.startsWith('/');
    const root = absolute ? containerRoot : workspace;
    const files =
      root === undefined ? undefined : await describeArtifact(root, absolute ? path.slice(1) : path, hashes);
    if (files === undefined) {
      note(`artifact '${path}' does not exist in the ${absolute ? 'container' : 'workspace'}; nothing saved for it`);
    }
    manifest.artifacts.push({ path, files: files ?? [] });
    if (root !== undefined) byRoot.set(root, [...(byRoot.get(root) ?? []), ...(files ?? [])]);
  }
  const all = manifest.artifacts.flatMap((a) => a.files);
  if (all.length > 0) {
    const stats = { files: 0, bytes: 0 };
    for (const [root, files] of byRoot) {
      const sent = await uploadFiles(client, root, files, { onProgress: progressNotes('uploading artifacts', note) });
      stats.files += sent.files;
      stats.bytes += sent.bytes;
    }
    const size = all.reduce((n, f) => n + f.size, 0);
    note(`saved artifacts: ${all.length} files, ${size} bytes (${stats.files} files, ${stats.bytes} bytes new)`);
  }
  // Only after every blob is stored: a manifest never names a missing blob.
  await client.putArtifacts(jobId, manifest);
  return manifest;
}
