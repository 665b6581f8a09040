/**
 * Why a folder cannot be removed, in words: the first folder in it that this process may not
 * empty, and whose it is. A runner that is not root cannot remove what a job in a container
 * left as root (a folder of its own it made 0700, say); its trash says so rather than keep the
 * disk in silence.
 */
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders looked into at most: the search is for a message, not worth a long walk. */
const MAX_FOLDERS = 10_000;

/** The reason `folder` resists removal, with what to do; undefined when nothing in it does (as root). */
export async function whyUnremovable(folder: string): Promise<string | undefined> {
  const me = process.getuid?.();
  const queue = [folder];
  for (let looked = 0; queue.length > 0 && looked < MAX_FOLDERS; looked++) {
    const dir = queue.shift()!;
    // Emptying a folder takes listing it (r, x) and unlinking in it (w).
    const allowed = await access(dir, constants.R_OK | constants.W_OK | constants.X_OK).then(
      () => true,
      () => false,
    );
    if (!allowed) return describe(dir, me);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) queue.push(join(dir, entry.name));
  }
  return undefined;
}

async function describe(dir: string, me: number | undefined): Promise<string> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return `${dir} cannot be read`;
  const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
  if (info.uid !== me) {
    const owner = info.uid === 0 ? 'root' : `uid ${info.uid}`;
    const remedy = info.uid === 0 ? 'root' : 'root or that user';
    return `${dir} is owned by ${owner} (mode ${mode}), not by this runner's user (uid ${me}): remove it as ${remedy}`;
  }
  return `${dir} has mode ${mode}, which keeps its owner, this runner's user, from emptying it: remove it by hand`;
}
