/** The examples the README points at run as written, and logs can be followed live. */
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { REPO, Sandbox } from './harness.js';

describe('examples', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(() => sb.dispose());

  it('runs examples/hello', async () => {
    await cp(join(REPO, 'examples/hello'), sb.root, { recursive: true });
    const r = await sb.dstack(['run', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Hello, world!\n');
  });

  it('runs examples/pipeline: prepare -> train -> evaluate through artifacts', async () => {
    await cp(join(REPO, 'examples/pipeline'), sb.root, { recursive: true });
    const r = await sb.dstack(['run', 'evaluate', '--seed', '7']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/prepare\s+\| wrote 2000 rows to data\/ \(seed 7\)/);
    expect(r.stdout).toMatch(/train\s+\| epoch 30\/30 loss=/);
    const mse = Number(/test mse=([\d.]+)/.exec(r.stdout)?.[1]);
    expect(mse).toBeLessThan(0.05);
    const [run] = await sb.json<RunView[]>(['status']);
    const out = join(sb.root, '..', 'metrics');
    await sb.dstack(['artifacts', run!.jobs[2]!.id, '-o', out]);
    expect(JSON.parse(await readFile(join(out, 'metrics/metrics.json'), 'utf8'))).toMatchObject({
      rows: 400,
      epochs: 30,
    });
  });

  it('follows a running job log with -f until it finishes, and narrows with --since', async () => {
    await sb.write({
      '.dstack/workflows.yaml': `workflows:
  - name: ticker
    commands:
      - for i in 1 2 3; do echo tick $i; sleep 0.3; done
`,
    });
    const name = (await sb.dstack(['run', 'ticker', '-d'])).stdout.trim();
    const follow = await sb.dstack(['logs', '-f', name]);
    expect(follow.stdout).toBe('tick 1\ntick 2\ntick 3\n');
    const [run] = await sb.json<RunView[]>(['status', name]);
    expect(run!.status).toBe('DONE');
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await sb.dstack(['logs', name, '--since', future])).stdout).toBe('');
    expect((await sb.dstack(['logs', name, '--since', '5m'])).stdout).toBe('tick 1\ntick 2\ntick 3\n');
  });
});
