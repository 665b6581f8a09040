/**
 * A runner's work dir holds its users' code, dependencies' artifacts and log spools: on a
 * machine shared with other accounts, only the runner's own user may read it (0700, as
 * ~/.ssh). One made readable by others (the default umask, an earlier version) is closed.
 */
import { chmod, mkdir, stat } from 'node:fs/promises';

export async function makeWorkRoot(workRoot: string): Promise<void> {
  await mkdir(workRoot, { recursive: true, mode: 0o700 });
  const info = await stat(workRoot);
  if ((info.mode & 0o077) !== 0 && info.uid === process.getuid?.()) await chmod(workRoot, info.mode & 0o700);
}
