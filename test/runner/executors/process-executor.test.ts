import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ProcessExecutor } from '../../../src/runner/executors/process-executor.js';
import { executorConformance } from './executor-conformance.js';

executorConformance({
  name: 'process',
  executor: async () => new ProcessExecutor(tmpdir()),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
});

executorConformance({
  name: 'process (through the spawner)',
  executor: async () => new ProcessExecutor(tmpdir(), { spawner: true }),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
});

executorConformance({
  name: 'process (guarded by the spawner)',
  executor: async () => new ProcessExecutor(tmpdir(), { guard: true }),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
});

describe('process executor', () => {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const spawner of [false, true]) {
    const through = spawner ? ' (through the spawner)' : '';

    it(`runs a short script as bash's argument, with no file${through}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dstack-scripts-'));
      const executor = new ProcessExecutor(dir, { spawner });
      try {
        const out: Buffer[] = [];
        const execution = await executor.start({
          jobId: 'j',
          workspace: dir,
          commands: ['echo "files: $(ls -A | wc -l)"', 'echo "$0"'],
          env,
          onOutput: (_, chunk) => void out.push(chunk),
        });
        expect(await execution.exit).toMatchObject({ code: 0 });
        expect(Buffer.concat(out).toString()).toBe('files: 0\nbash\n');
      } finally {
        executor.close();
        await rm(dir, { recursive: true, force: true });
      }
    });

    it(`runs a script too long for an argument from a file, removed once it has ended${through}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dstack-scripts-'));
      const executor = new ProcessExecutor(dir, { spawner });
      try {
        // 70 KiB of commands: over what goes inline.
        const filler = Array.from({ length: 700 }, (_, i) => `: ${String(i).padStart(96, '.')}`);
        const out: Buffer[] = [];
        const execution = await executor.start({
          jobId: 'j',
          workspace: dir,
          commands: ['test -f "$0"', ...filler, 'echo done'],
          env,
          onOutput: (_, chunk) => void out.push(chunk),
        });
        expect(await execution.exit).toMatchObject({ code: 0 });
        expect(Buffer.concat(out).toString()).toBe('done\n');
        await vi.waitFor(async () => expect(await readdir(dir)).toEqual([]));
      } finally {
        executor.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
