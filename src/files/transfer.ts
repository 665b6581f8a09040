/** Moving manifests' files between a folder and the server's blob store. */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Client } from '../client/client.js';
import type { ManifestEntry } from '../core/records.js';
import { InvalidError } from '../core/errors.js';
import { isInside, prepareWrite } from './safe-path.js';

async function parallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface TransferStats {
  files: number;
  bytes: number;
}

/** Upload the blobs of `entries` that the server does not have yet. */
export async function uploadFiles(
  client: Client,
  root: string,
  entries: readonly ManifestEntry[],
): Promise<TransferStats> {
  const byDigest = new Map<string, ManifestEntry>();
  for (const e of entries) if (e.digest) byDigest.set(e.digest, e);
  const missing = byDigest.size === 0 ? [] : await client.missingBlobs([...byDigest.keys()]);
  let bytes = 0;
  await parallel(missing, 8, async (digest) => {
    const entry = byDigest.get(digest)!;
    await client.putBlob(digest, createReadStream(join(root, entry.path)));
    bytes += entry.size;
  });
  return { files: missing.length, bytes };
}

/** Write `entries` under `root` from the blob store, refusing any path that would leave it. */
export async function downloadFiles(
  client: Client,
  root: string,
  entries: readonly ManifestEntry[],
): Promise<TransferStats> {
  let bytes = 0;
  await parallel(entries, 8, async (entry) => {
    const target = await prepareWrite(root, entry.path);
    if (entry.link !== undefined) {
      if (entry.link.startsWith('/') || !isInside(root, join(dirname(target), entry.link))) {
        throw new InvalidError(`symlink '${entry.path}' -> '${entry.link}' would lead out of ${root}`);
      }
      await symlink(entry.link, target);
      return;
    }
    await pipeline(await client.getBlob(entry.digest!), createWriteStream(target, { mode: entry.mode | 0o600 }));
    await chmod(target, entry.mode | 0o600);
    bytes += entry.size;
  });
  return { files: entries.length, bytes };
}
