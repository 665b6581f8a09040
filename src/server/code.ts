/** Reading code manifests (the project files a run was submitted with) from the blob store. */
import type { CodeManifest } from '../core/api.js';
import { InvalidError, TooLargeError } from '../core/errors.js';
import { MAX_CODE_LIST_BYTES } from './api/body-limit.js';
import { manifestFiles } from './api/manifest-entry-schema.js';
import type { BlobStore } from './storage/blob-store.js';

/**
 * A code manifest is read whole, as a preview's body that lists it is: bounded as that body is.
 * A blob is any size its uploader made it, and a run naming a bigger one as its code made the
 * server hold it all in memory, then parse it, every other caller waiting.
 */
const MAX_CODE_MANIFEST_BYTES = MAX_CODE_LIST_BYTES;

export async function readCodeManifest(blobs: BlobStore, digest: string): Promise<CodeManifest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await blobs.get(digest)) {
    size += (chunk as Buffer).length;
    if (size > MAX_CODE_MANIFEST_BYTES) {
      throw new TooLargeError(
        `code manifest ${digest} is over ${MAX_CODE_MANIFEST_BYTES >> 20} MiB, the most the server reads: it lists ` +
          "every file of the run's code, so git-ignore the folders of many files that the jobs do not need",
      );
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks).toString('utf8');
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
