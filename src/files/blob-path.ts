/**
 * Where a blob lies in a blob store on local disk, `FOLDER/ab/abcdef…`: shared by the
 * server's store and a CLI that copies from it on the same machine (files/local-copy.ts).
 */
import { join } from 'node:path';
import { InvalidError } from '../core/errors.js';

export const DIGEST = /^[0-9a-f]{64}$/;

/** The file of blob `digest` under `folder`; anything but a sha256 digest is refused (it is joined into a path). */
export function blobPath(folder: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new InvalidError(`not a sha256 digest: '${digest}'`);
  return join(folder, digest.slice(0, 2), digest);
}
