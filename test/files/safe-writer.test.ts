import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafeWriter } from '../../src/files/safe-writer.js';

const work = await mkdtemp(join(tmpdir(), 'dstack-safe-writer-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('SafeWriter', () => {
  it('gives every file exactly its mode, whatever the umask and the mode of the first file', async () => {
    const previous = process.umask(0o022);
    try {
      const writer = new SafeWriter(join(work, 'modes'));
      const modes = { 'a.txt': 0o644, 'run.sh': 0o775, 'shared.txt': 0o666, 'private.txt': 0o600 };
      for (const [name, mode] of Object.entries(modes)) await writer.writeFile(name, Buffer.from(name), mode);
      for (const [name, mode] of Object.entries(modes)) expect(await modeOf(join(work, 'modes', name))).toBe(mode);
    } finally {
      process.umask(previous);
    }
  });
});
