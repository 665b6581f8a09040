/**
 * Folders that hold users' code, artifacts, logs and secrets (a runner's work dir, a server's
 * data folder and blob folder): on a machine shared with other accounts, only their owner may
 * read them (0700, as ~/.ssh). One made readable by others (the default umask, an earlier
 * version, `mkdir` by hand) is closed when it is this process's user's.
 */
import { chmod, stat } from 'node:fs/promises';
import { makeChosenFolder, makeFolder, type FolderSetting } from './make-folder.js';

/** `chosen`: the setting that named the folder, for a UsageError when it cannot be made. */
export async function makePrivateFolder(path: string, chosen?: FolderSetting): Promise<void> {
  await (chosen ? makeChosenFolder(path, chosen, 0o700) : makeFolder(path, 0o700));
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0 && info.uid === process.getuid?.()) await chmod(path, info.mode & 0o700);
}
