/**
 * Local folders of wheels that pip's `find-links` names (`PIP_FIND_LINKS=/opt/wheels`, the usual
 * set-up of a cluster without internet): what a virtualenv built from them installs follows the
 * files in them, so a cached virtualenv's key counts their listing (pip reads a folder's own
 * entries, not below), and a wheel added, removed or replaced builds a new one.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface WheelFolder {
  /** As pip's setting names it: what the key says (a workspace's path differs for every job). */
  name: string;
  /** Its path on this machine. */
  path: string;
  /**
   * Whether its files are told by their content: a folder of the job's workspace is written
   * anew for every job, so their times say nothing there. Elsewhere (a folder of the runner's
   * machine) names, sizes and times do, without reading gigabytes of wheels per job.
   */
  byContent: boolean;
}

/** What the folders hold, as one text for a key; or why they cannot be keyed (a file, not a folder). */
export type WheelListing = { listing: string } | { notFolder: string };

/** The listing of `folders`, each under its name: one that does not exist is `missing` (pip skips it). */
export async function wheelListing(folders: readonly WheelFolder[]): Promise<WheelListing> {
  const parts: string[] = [];
  for (const folder of folders) {
    const info = await lstat(folder.path).catch(() => undefined);
    if (info === undefined) {
      parts.push(`${folder.name}\0missing`);
      continue;
    }
    if (!info.isDirectory()) return { notFolder: folder.name };
    const names = (await readdir(folder.path)).sort();
    const entries: string[] = [];
    for (const name of names) entries.push(await describe(join(folder.path, name), name, folder.byContent));
    parts.push(`${folder.name}\0${entries.join('\0')}`);
  }
  return { listing: parts.join('\n') };
}

async function describe(path: string, name: string, byContent: boolean): Promise<string> {
  const entry = await lstat(path).catch(() => undefined);
  // A folder's time moves with what is written below it, which pip does not read.
  if (entry === undefined || !entry.isFile()) return name;
  if (!byContent) return `${name}\0${entry.size}\0${entry.mtimeMs}`;
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return `${name}\0${hash.digest('hex')}`;
}
