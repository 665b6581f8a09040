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
 * readable) is left to the HTTP path, which reports what the server knows of it. The copies
 * are file jobs (file-jobs.ts), made on worker threads for all but the smallest restores.
 */
import { stat } from 'node:fs/promises';
import { forEachLimit } from '../core/concurrency.js';
import { InvalidError } from '../core/errors.js';
import { restoredFileMode } from '../core/file-modes.js';
import type { ManifestEntry } from '../core/records.js';
import { blobPath } from './blob-path.js';
import { asError, type CopyFilesJob } from './file-jobs.js';
import { fileJob } from './file-workers.js';
import type { SafeWriter } from './safe-writer.js';

/**
 * Files copied in one file job (a worker thread's once over a megabyte: file-workers.ts), and
 * jobs at once. A copy through libuv's pool cost the event loop's thread five trips a file.
 */
const BATCH_FILES = 256;
const BATCH_BYTES = 64 << 20;
const BATCHES_IN_FLIGHT = 4;

/**
 * Copy each group's blob from `folder` to the paths of its entries (one digest a group), with
 * their modes. Returns the groups whose blob was not found there, for the caller to fetch.
 * `signal` ends the copy before its next batch.
 */
export async function copyFromStore(
  folder: string,
  groups: readonly (readonly ManifestEntry[])[],
  writer: SafeWriter,
  onFile: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<ManifestEntry[][]> {
  const left: ManifestEntry[][] = [];
  await forEachLimit(batches(groups), BATCHES_IN_FLIGHT, async (batch) => {
    signal?.throwIfAborted();
    const files: CopyFilesJob['files'] = [];
    const of: { group: readonly ManifestEntry[]; entry: ManifestEntry }[] = [];
    for (const group of batch) {
      const source = blobPath(folder, group[0]!.digest!);
      for (const entry of group) {
        files.push({
          source,
          target: await writer.target(entry.path),
          size: group[0]!.size,
          mode: restoredFileMode(entry.mode),
        });
        of.push({ group, entry });
      }
    }
    const outcomes = await fileJob({ op: 'copy-files', files });
    const missing = new Set<readonly ManifestEntry[]>();
    for (const [i, outcome] of outcomes.entries()) {
      const { group, entry } = of[i]!;
      const { source, mode } = files[i]!;
      if (outcome === undefined) onFile(entry.size);
      // Gone from the store (pruned since the manifest was read) or not ours to read: the server says why.
      else if (outcome.missing) missing.add(group);
      else if (outcome.size !== undefined)
        throw new InvalidError(
          `blob ${entry.digest} in ${folder} is ${outcome.size} bytes, not the ${group[0]!.size} of '${group[0]!.path}'`,
        );
      else if (outcome.error.code === 'EEXIST') {
        // Something at the path: replaced, never followed.
        await writer.copyFile(source, (await stat(source)).mode, entry.path, mode);
        onFile(entry.size);
      } else throw asError(outcome.error);
    }
    for (const group of missing) left.push([...group]);
  });
  return left;
}

/** `groups` in batches of up to BATCH_FILES files or BATCH_BYTES. */
function* batches(groups: readonly (readonly ManifestEntry[])[]): Generator<(readonly ManifestEntry[])[]> {
  let batch: (readonly ManifestEntry[])[] = [];
  let files = 0;
  let bytes = 0;
  for (const group of groups) {
    batch.push(group);
    files += group.length;
    bytes += group[0]!.size * group.length;
    if (files >= BATCH_FILES || bytes >= BATCH_BYTES) {
      yield batch;
      batch = [];
      files = 0;
      bytes = 0;
    }
  }
  if (batch.length > 0) yield batch;
}
