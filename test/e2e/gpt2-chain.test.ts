/** The reference docs' GPT-2 chain, run end to end through the real CLI on the embedded default. */
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { REPO, Sandbox } from './harness.js';

describe('the GPT-2 chain', () => {
  let sb: Sandbox;
  let run: RunView;
  let result: Awaited<ReturnType<Sandbox['dstack']>>;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await cp(join(REPO, 'test/fixtures/gpt2'), sb.root, { recursive: true });
    result = await sb.dstack(['run', 'finetune-model', '--model', '117M']);
    run = await sb.lastRun();
  });
  afterAll(() => sb.dispose());

  it('runs download-model, encode-dataset and finetune-model in order and exits 0', () => {
    expect(result.stderr).toContain('run DONE'.replace('run', `run ${run.name}`));
    expect(result.code).toBe(0);
    expect(run.jobs.map((j) => [j.workflow, j.status])).toEqual([
      ['download-model', 'DONE'],
      ['encode-dataset', 'DONE'],
      ['finetune-model', 'DONE'],
    ]);
    const started = run.jobs.map((j) => j.startedAt!);
    expect(started[0]).toBeLessThanOrEqual(started[1]!);
    expect(started[1]).toBeLessThanOrEqual(started[2]!);
  });

  it('streams every job log, prefixed by its workflow', () => {
    expect(result.stdout).toMatch(/download-model \| downloaded model 117M/);
    expect(result.stdout).toMatch(/encode-dataset \| encoded \d+ tokens with model 117M/);
    expect(result.stdout).toMatch(/finetune-model \| \[3\] loss=0.333 batch_size=1 lr=2e-05/);
  });

  it('passes the run name and $variables_as_args to the command', async () => {
    const finetune = run.jobs[2]!;
    const files = await sb.dstack(['artifacts', finetune.id]);
    expect(files.stdout).toContain(`checkpoint/${run.name}/model-3.txt`);
  });

  it('shows the run in status like the reference docs', async () => {
    const r = await sb.dstack(['status']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+TAG\s+JOB\s+WORKFLOW\s+VARIABLES\s+SUBMITTED\s+RUNNER\s+STATUS$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${run.name}\\s+<none>\\s+finetune-model\\s+--model 117M\\s+\\d+ sec ago\\s+local\\s+DONE$`),
    );
    for (const job of run.jobs) {
      expect(r.stdout).toMatch(
        new RegExp(`${job.id}\\s+${job.workflow}\\s+--model 117M\\s+\\d+ sec ago\\s+local\\s+DONE`),
      );
    }
  });

  it('prints one job log by its id, and the whole run by its name', async () => {
    const one = await sb.dstack(['logs', run.jobs[0]!.id]);
    expect(one.stdout).toBe('downloaded model 117M\n');
    const all = await sb.dstack(['logs', run.name]);
    expect(all.stdout).toContain('saved checkpoint');
    expect(all.stdout).toContain('downloaded model 117M');
  });

  it('lists artifacts with sizes, totals them, and downloads them', async () => {
    const encode = run.jobs[1]!;
    const list = await sb.dstack(['artifacts', encode.id]);
    expect(list.stdout).toMatch(/datasets\s+datasets\/input\.npy\s+\d+B/);
    const total = await sb.dstack(['artifacts', '-t', run.jobs[2]!.id]);
    expect(total.stdout).toMatch(/checkpoint\s+1\s+\d+B/);
    expect(total.stdout).toMatch(/samples\s+1\s+\d+B/);
    const out = join(sb.root, '..', 'download');
    const dl = await sb.dstack(['artifacts', run.jobs[2]!.id, '--output', out]);
    expect(dl.code).toBe(0);
    expect(await readFile(join(out, 'samples/sample-3.txt'), 'utf8')).toBe('to be or not to be\n');
    expect(await readFile(join(out, `checkpoint/${run.name}/model-3.txt`), 'utf8')).toMatch(/^model=117M tokens=\d+/);
  });

  it('hands each job the artifacts of the jobs it depends on', async () => {
    const logs = await sb.dstack(['logs', run.jobs[1]!.id]);
    expect(logs.stdout).toContain('with model 117M');
  });
});
