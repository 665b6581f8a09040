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

describe('process executor', () => {
  for (const spawner of [false, true]) {
    it(`removes the job's script once it has ended${spawner ? ' (through the spawner)' : ''}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dstack-scripts-'));
      const executor = new ProcessExecutor(dir, { spawner });
      try {
        const execution = await executor.start({
          jobId: 'j',
          workspace: dir,
          commands: ['test -f "$0"'],
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
          onOutput: () => {},
        });
        expect(await execution.exit).toMatchObject({ code: 0 });
        await vi.waitFor(async () => expect(await readdir(dir)).toEqual([]));
      } finally {
        executor.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
