import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { findBash, ProcessExecutor } from '../../../src/runner/executors/process-executor.js';
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

describe('findBash', () => {
  it('finds bash in the absolute folders of a PATH, or leaves it to the PATH of the job', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dstack-bash-'));
    try {
      await mkdir(join(dir, 'bin'));
      await writeFile(join(dir, 'bin', 'bash'), '', { mode: 0o755 });
      await writeFile(join(dir, 'bash'), '', { mode: 0o644 }); // not executable
      expect(findBash(`relative:${dir}:${join(dir, 'bin')}`)).toBe(join(dir, 'bin', 'bash'));
      expect(findBash(join(dir, 'none'))).toBe('bash');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
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

    it(`runs bash from the runner's PATH when the job's PATH has none, its commands looked up on the job's${through}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dstack-scripts-'));
      const executor = new ProcessExecutor(dir, { spawner });
      try {
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const execution = await executor.start({
          jobId: 'j',
          workspace: dir,
          // `environment: {PATH: /opt/conda/bin}`, without `:$PATH`
          commands: ['echo "$0 runs with PATH=$PATH"', 'ls'],
          env: { PATH: join(dir, 'conda', 'bin') },
          onOutput: (stream, chunk) => void (stream === 'stdout' ? out : err).push(chunk),
        });
        expect(await execution.exit).toMatchObject({ code: 127 });
        expect(Buffer.concat(out).toString()).toBe(`bash runs with PATH=${join(dir, 'conda', 'bin')}\n`);
        expect(Buffer.concat(err).toString()).toBe('bash: line 4: ls: command not found\n');
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
