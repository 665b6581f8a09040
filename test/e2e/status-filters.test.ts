/**
 * `dstack status --workflow WF` and `--status S`: the runs of one workflow, or in one status,
 * narrowed by the server before the last N are taken, on the embedded server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe('dstack status narrowed by workflow and status', () => {
  let sb: Sandbox;
  const runs: Record<string, string> = {};

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': `workflows:
  - name: train
    commands: [echo train]
  - name: broken
    commands: [exit 3]
`,
    });
    for (const workflow of ['train', 'broken', 'train']) {
      const r = await sb.dstack(['run', workflow, '--no-cache', '-d']);
      runs[`${workflow}-${Object.keys(runs).length}`] = r.stdout.trim();
      await sb.ended(r.stdout.trim(), 30_000);
    }
  }, 120_000);
  afterAll(() => sb?.dispose());

  const listed = async (args: string[]) => {
    const r = await sb.dstack(['status', ...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { name: string }[]).map((run) => run.name);
  };

  it("lists only the workflow's runs, the last one by default and the last N with --last", async () => {
    expect(await listed(['--workflow', 'train', '--last', '10'])).toEqual([runs['train-2'], runs['train-0']]);
    expect(await listed(['--workflow', 'train'])).toEqual([runs['train-2']]);
    expect(await listed(['--workflow', 'nothing-of-that-name', '--last', '10'])).toEqual([]);
  });

  it('lists only the runs in a status, written in any case', async () => {
    expect(await listed(['--status', 'failed', '--last', '10'])).toEqual([runs['broken-1']]);
    expect(await listed(['--status', 'DONE', '--workflow', 'train', '--last', '1'])).toEqual([runs['train-2']]);
    const table = await sb.dstack(['status', '--status', 'failed']);
    expect(table.stdout).toContain(runs['broken-1']);
    expect(table.stdout).toMatch(/FAILED +exit code 3/);
  });
});
