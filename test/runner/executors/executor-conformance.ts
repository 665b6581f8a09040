/**
 * What every Executor does, whatever runs the commands (a process group on the host, a
 * container): one suite, run against each implementation.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRequest, Executor } from '../../../src/runner/executors/executor.js';

export interface ConformanceSubject {
  name: string;
  /** Made once, after the suite's setup. */
  executor: () => Promise<Executor>;
  /** Fields every request of this executor needs (an image). */
  extra?: () => Partial<ExecutionRequest>;
  /** Environment the commands need besides the test's (PATH on the host). */
  env?: Record<string, string>;
}

export function executorConformance(subject: ConformanceSubject): void {
  describe(`${subject.name} executor (conformance)`, () => {
    let executor: Executor;
    let workspace: string;
    let n = 0;
    beforeAll(async () => {
      executor = await subject.executor();
      workspace = await mkdtemp(join(tmpdir(), 'dstack-executor-'));
    });
    afterAll(() => rm(workspace, { recursive: true, force: true }));

    const run = async (commands: string[], env: Record<string, string> = {}) => {
      const out: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
      const execution = await executor.start({
        jobId: `conformance-${process.pid}-${n++}`,
        workspace,
        commands,
        env: { ...subject.env, ...env },
        onOutput: (stream, chunk) => void (out[stream] += chunk.toString()),
        ...subject.extra?.(),
      });
      return { execution, out };
    };

    it('runs the commands in order in the workspace, with the environment, streaming stdout and stderr', async () => {
      const { execution, out } = await run(
        ['echo "hello $WHO"', 'echo err >&2', 'cd sub 2>/dev/null || mkdir sub', 'echo in-order > sub/f', 'cat sub/f'],
        { WHO: 'you' },
      );
      const exit = await execution.exit;
      expect(exit.code).toBe(0);
      expect(out.stdout).toBe('hello you\nin-order\n');
      expect(out.stderr).toBe('err\n');
      expect(await readFile(join(workspace, 'sub', 'f'), 'utf8')).toBe('in-order\n');
    });

    it('ends at the first failing command with its exit code', async () => {
      const { execution, out } = await run(['echo before', 'sh -c "exit 7"', 'echo never']);
      expect((await execution.exit).code).toBe(7);
      expect(out.stdout).toBe('before\n');
    });

    it('ends at a failing command of a pipe (pipefail), in an image without bash too', async () => {
      const { execution, out } = await run(['echo before', 'sh -c "exit 5" | cat', 'echo never']);
      expect((await execution.exit).code).toBe(5);
      expect(out.stdout).toBe('before\n');
    });

    it('delivers SIGTERM on terminate, which the job may handle', async () => {
      const { execution, out } = await run([
        "trap 'echo got TERM; exit 0' TERM",
        'echo ready',
        'while true; do sleep 0.1; done',
      ]);
      for (let i = 0; i < 100 && !out.stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
      execution.terminate();
      const exit = await execution.exit;
      expect(out.stdout).toContain('got TERM');
      expect(exit.code).toBe(0);
    });

    it('reads no more output while the sink asks it to wait (the job waits on its writes), and loses none', async () => {
      const total = 8 << 20; // far more than pipes and sockets hold
      let got = 0;
      let resume: (() => void) | undefined;
      const execution = await executor.start({
        jobId: `conformance-${process.pid}-${n++}`,
        workspace,
        commands: [`head -c ${total} /dev/zero`],
        env: { ...subject.env },
        onOutput: (_stream, chunk) => {
          got += chunk.length;
          return resume !== undefined || got < 1 << 20; // full once, past the first MiB
        },
        whenDrained: (r) => void (resume = r),
        ...subject.extra?.(),
      });
      for (let i = 0; i < 200 && resume === undefined; i++) await new Promise((r) => setTimeout(r, 50));
      expect(resume).toBeDefined();
      const atPause = got;
      const ended = await Promise.race([
        execution.exit.then(() => true),
        new Promise((r) => setTimeout(r, 500, false)),
      ]);
      expect(ended).toBe(false); // blocked on its writes, not finished
      expect(got - atPause).toBeLessThan(2 << 20); // at most what was already on its way
      resume!();
      expect((await execution.exit).code).toBe(0);
      expect(got).toBe(total);
    });

    it('ends the job at once on kill, background processes included', async () => {
      const { execution, out } = await run(['sleep 300 &', 'echo ready', 'sleep 300']);
      for (let i = 0; i < 100 && !out.stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      execution.kill();
      const exit = await execution.exit;
      expect(exit.code === null || exit.code === 137).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });
}
