/**
 * The reference docs' GPT-2 workflows exactly as written (three `image:` workflows chained by
 * `depends-on`), with tiny stand-ins for the model and data, in the offline stand-in image.
 */
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { useDockerEnvironment } from './docker-env.js';
import { REPO, Sandbox } from './harness.js';

describe('the GPT-2 workflows of the reference docs, in docker', () => {
  let sb: Sandbox;
  let restore: () => void;
  let run: RunView;
  let result: Awaited<ReturnType<Sandbox['dstack']>>;

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    sb = await Sandbox.create();
    await cp(join(REPO, 'test/fixtures/gpt2-docker'), sb.root, { recursive: true });
    result = await sb.dstack(['run', 'finetune-model'], { timeoutMs: 180_000 });
    run = await sb.lastRun();
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    restore?.();
  });

  it('runs download-model, encode-dataset and finetune-model in their image, in order', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(run.jobs.map((j) => [j.workflow, j.spec.image, j.status])).toEqual([
      ['download-model', 'tensorflow/tensorflow:1.15.0-py3', 'DONE'],
      ['encode-dataset', 'tensorflow/tensorflow:1.15.0-py3', 'DONE'],
      ['finetune-model', 'tensorflow/tensorflow:1.15.0-py3', 'DONE'],
    ]);
    expect(result.stdout).toMatch(/download-model +\| downloaded model 124M/);
    expect(result.stdout).toMatch(/encode-dataset +\| encoded 13 tokens with model 124M/);
    expect(result.stdout).toMatch(/finetune-model +\| \[3\] loss=0.333 batch_size=1 lr=2e-05/);
  });

  it("keeps the checkpoint under the run's name, and the samples", async () => {
    const out = join(sb.root, '..', 'download');
    const dl = await sb.dstack(['artifacts', run.jobs[2]!.id, '--output', out]);
    expect(dl.code, dl.stderr).toBe(0);
    expect(await readFile(join(out, `checkpoint/${run.name}/model-3.txt`), 'utf8')).toBe('model=124M tokens=13\n');
    expect(await readFile(join(out, 'samples/sample-3.txt'), 'utf8')).toBe('to be or not to be\n');
  });
});
