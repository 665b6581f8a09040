/** Reading code manifests (the project files a run was submitted with) from the blob store. */
import { text } from 'node:stream/consumers';
import type { CodeManifest } from '../core/api.js';
import { InvalidError } from '../core/errors.js';
import { manifestFiles } from './api/manifest-entry-schema.js';
import type { BlobStore } from './storage/blob-store.js';

export async function readCodeManifest(blobs: BlobStore, digest: string): Promise<CodeManifest> {
  const body = await text(await blobs.get(digest));
  try {
    const manifest = JSON.parse(body) as CodeManifest;
    if (!Array.isArray(manifest.files)) throw new Error('no files');
    return manifest;
  } catch (e) {
    throw new InvalidError(`blob ${digest} is not a code manifest`, { cause: e });
  }
}

/**
 * The code manifest a run is submitted with, its entries checked as an artifact manifest's are
 * (paths inside the project, modes only permission bits): runners restore them as they are listed.
 */
export async function readSubmittedCodeManifest(blobs: BlobStore, digest: string): Promise<CodeManifest> {
  const manifest = await readCodeManifest(blobs, digest);
  const files = manifestFiles.safeParse(manifest.files);
  if (files.success) return { files: files.data };
  const issue = files.error.issues[0]!;
  throw new InvalidError(`code manifest ${digest}: files.${issue.path.join('.')}: ${issue.message}`);
}
