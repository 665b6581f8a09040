/**
 * A small tmpfs mounted for a test: a real disk that fills up (ENOSPC, short writes), where
 * /dev/full refuses every write from the first byte. Mounting needs root, as CI runs; a test
 * that cannot mount fails saying so rather than passing without the full disk.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A fresh folder with a tmpfs of `size` (`4m`) mounted on it; `cleanup` unmounts and removes it. */
export async function mountTmpfs(size: string, cleanup: (() => Promise<unknown>)[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  } catch (e) {
    await rmdir(dir);
    const why = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    throw new Error(
      `cannot mount a ${size} tmpfs at ${dir} to make a full disk: ${why}. ` +
        'These tests need root (or CAP_SYS_ADMIN), as CI runs them',
    );
  }
  cleanup.push(() => unmount(dir));
  return dir;
}

/** Unmount, waiting a moment for the test's processes to let go of the disk; lazily as a last resort. */
async function unmount(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run('umount', [dir]);
      break;
    } catch (e) {
      if (attempt >= 20) {
        await run('umount', ['-l', dir]);
        break;
      }
      if (!/busy/i.test((e as { stderr?: string }).stderr ?? '')) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await rmdir(dir);
}
