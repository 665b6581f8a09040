/**
 * A stop gives the job's own processes their grace period: a training script that saves a
 * checkpoint on SIGTERM, started by the job's shell among other commands, finishes saving
 * even when that takes longer than the shell's own end.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slowSaverWorkflow } from './checkpointing.js';
import { Sandbox, waitUntil } from './harness.js';

describe('a stop on the host', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': `workflows:\n${slowSaverWorkflow('train')}` });
  });
  afterAll(() => sb.dispose());

  it("lets a command's SIGTERM handler finish saving, though the shell that started it ends first", async () => {
    const name = (await sb.dstack(['run', 'train', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
    await sb.dstack(['stop', name]);
    // A second stop while the first one's grace period runs says so, and what else it can do.
    const id = (await sb.runView(name)).jobs[0]!.id;
    const again = await sb.dstack(['stop', name]);
    expect(again.stdout).toBe(
      `${id} train STOPPING: already stopping\n'dstack stop -a ${name}' aborts it, keeping no artifacts\n`,
    );
    const job = await waitUntil(async () => {
      const j = (await sb.runView(name)).jobs[0]!;
      return j.status === 'STOPPED' && j;
    });
    const log = (await sb.dstack(['logs', name])).stdout;
    expect(log).toContain('saved it');
    expect(log).not.toContain('training done'); // a stopped script goes no further
    const out = join(sb.root, '..', 'saved');
    expect((await sb.dstack(['artifacts', job.id, '-o', out])).code).toBe(0);
    expect(await readFile(join(out, 'checkpoint/state'), 'utf8')).toBe('saved\n');
  });

  it('refuses a DSTACK_STOP_GRACE that is no number of seconds, rather than kill at once', async () => {
    // `still running NaN s after SIGTERM (its grace period): killed`, the checkpoint unwritten.
    for (const [value, args] of [
      ['abc', ['run', 'train', '-d']],
      ['10s', ['status']],
      ['90000', ['server', 'stop']],
    ] as const) {
      const r = await sb.dstack([...args], { env: { DSTACK_STOP_GRACE: value } });
      expect([r.code, r.stdout, r.stderr]).toEqual([
        2,
        '',
        `error: invalid DSTACK_STOP_GRACE '${value}': expected seconds from 0 to 86400 (a day), like 30\n`,
      ]);
    }
  });
});
