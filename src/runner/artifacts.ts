/** Saving a job's artifacts: describe each declared path, upload new blobs, then the manifest. */
import type { Client } from '../client/client.js';
import type { ArtifactManifest } from '../core/records.js';
import { describeArtifact } from '../files/manifest.js';
import { uploadFiles } from '../files/transfer.js';

export async function saveArtifacts(
  client: Client,
  jobId: string,
  workspace: string,
  paths: readonly string[],
  note: (text: string) => void,
): Promise<ArtifactManifest> {
  const manifest: ArtifactManifest = { artifacts: [] };
  for (const path of paths) {
    const files = await describeArtifact(workspace, path);
    if (files === undefined) note(`artifact '${path}' does not exist in the workspace; nothing saved for it`);
    manifest.artifacts.push({ path, files: files ?? [] });
  }
  const all = manifest.artifacts.flatMap((a) => a.files);
  if (all.length > 0) {
    const stats = await uploadFiles(client, workspace, all);
    const size = all.reduce((n, f) => n + f.size, 0);
    note(`saved artifacts: ${all.length} files, ${size} bytes (${stats.files} files, ${stats.bytes} bytes new)`);
  }
  // Only after every blob is stored: a manifest never names a missing blob.
  await client.putArtifacts(jobId, manifest);
  return manifest;
}
