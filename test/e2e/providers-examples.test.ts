/** The custom provider examples of docs/providers.md run as written. */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { REPO, Sandbox } from './harness.js';

describe('custom provider examples', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(() => sb.dispose());

  it('runs examples/provider-python: a job per learning rate, then the best', async () => {
    await cp(join(REPO, 'examples/provider-python'), sb.root, { recursive: true });
    const r = await sb.dstack(['run', 'search']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/search\/best +\| best of 3: lr=0\.01 loss=0\.0500/);
    const [run] = await sb.json<RunView[]>(['status']);
    expect(run!.jobs.map((j) => j.ref)).toEqual(['search/lr-0', 'search/lr-1', 'search/lr-2', 'search/best']);
  });

  it('runs examples/provider-js: a word count per shard, then the total', async () => {
    await cp(join(REPO, 'examples/provider-js'), sb.root, { recursive: true });
    const r = await sb.dstack(['run', 'count', '--shards', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/count\/total +\| total words: 32/);
    const [run] = await sb.json<RunView[]>(['status']);
    expect(run!.jobs.map((j) => j.ref)).toEqual(['count/shard-0', 'count/shard-1', 'count/total']);
  });
});
