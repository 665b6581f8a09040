/** Reading code manifests (the project files a run was submitted with) from the blob store. */
import { text } from 'node:stream/consumers';
import type { CodeManifest } from '../core/api.js';
import { InvalidError } from '../core/errors.js';
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
