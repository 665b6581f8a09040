/**
 * Restoring from a blob store on this machine. A CLI whose server is the embedded one (same
 * user, same machine: `server.json` names the store's folder) copies each blob's file in the
 * kernel, instead of the server reading it and sending it over a socket and the CLI hashing
 * and writing it again. A restore then costs what `cp -r` does.
 *
 * What is checked: each copy's size against its manifest entry. The contents are not hashed
 * again: the store wrote each blob only once it was verified (temp file, then rename), and
 * whoever could change it there (this user) could change the restored files as well; git's
 * local clone trusts its object files the same way. A blob that is not there (or not
 * readable) is left to the HTTP path, which reports what the server knows of it.
 */
import { stat } from 'node:fs/promises';
import { forEachLimit } from '../core/concurrency.js';
import { InvalidError } from '../core/errors.js';
import type { ManifestEntry } from '../core/records.js';
import { blobPath } from './blob-path.js';
import type { SafeWriter } from './safe-writer.js';

/** Copies at once: libuv's four threads (more made the kernel contend: more system time, not less wall time). */
const COPIES = 4;

/**
 * Copy each group's blob from `folder` to the paths of its entries (one digest a group), with
 * their modes. Returns the groups whose blob was not found there, for the caller to fetch.
 */
export async function copyFromStore(
  folder: string,
  groups: readonly (readonly ManifestEntry[])[],
  writer: SafeWriter,
  onFile: (bytes: number) => void,
): Promise<ManifestEntry[][]> {
  const left: ManifestEntry[][] = [];
  await forEachLimit(groups, COPIES, async (group) => {
    const first = group[0]!;
    const source = blobPath(folder, first.digest!);
    try {
      const blob = await stat(source);
      if (blob.size !== first.size) {
        throw new InvalidError(
          `blob ${first.digest} in ${folder} is ${blob.size} bytes, not the ${first.size} of '${first.path}'`,
        );
      }
      for (const entry of group) {
        await writer.copyFile(source, blob.mode, entry.path, entry.mode | 0o600);
        onFile(entry.size);
      }
    } catch (e) {
      const { code, path } = e as NodeJS.ErrnoException;
      // Gone from the store (pruned since the manifest was read) or not ours to read: the server says why.
      if ((code === 'ENOENT' || code === 'EACCES') && path === source) left.push([...group]);
      else throw e;
    }
  });
  return left;
}
