/** Folders for one test file's work: each call a new empty one, all removed after the file's tests. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export async function freshDirs(prefix: string): Promise<() => Promise<string>> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  afterAll(() => rm(work, { recursive: true, force: true }));
  let made = 0;
  return async () => {
    const dir = join(work, `d${++made}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };
}
