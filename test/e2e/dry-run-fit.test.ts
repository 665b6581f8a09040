/**
 * `dstack run --dry-run` says that a job this machine cannot fit would fail, in the words the
 * run itself fails it with, with no server running (the run would start the embedded one) and
 * with the embedded server running (its answer to the preview).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

// No machine has GPUs of this name: the test holds on one with GPUs too.
const WORKFLOWS = `workflows:
  - name: big
    commands: [echo big]
    resources:
      gpu: {count: 2, name: Z9000}
  - name: small
    commands: [echo small]
`;

const FAILS = 'warning: job big would fail: this machine does not have 2 Z9000 GPUs\n';

describe('dstack run --dry-run of a job this machine cannot fit', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  });
  afterAll(() => sb.dispose());

  it('warns it would fail, exit 0 (the plan is sound), with no server running', async () => {
    const dry = await sb.dstack(['run', 'big', '--dry-run']);
    expect(dry.stdout).toContain('(no server is running: tag dependencies and the cache were not checked)\n');
    expect([dry.code, dry.stderr]).toEqual([0, FAILS]);
    const fits = await sb.dstack(['run', 'small', '--dry-run']);
    expect([fits.code, fits.stderr]).toEqual([0, '']);
  });

  it('warns of it as the run then fails it, with the embedded server running', async () => {
    const run = await sb.dstack(['run', 'big', '-d']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('this machine does not have 2 Z9000 GPUs');
    const dry = await sb.dstack(['run', 'big', '--dry-run']);
    expect([dry.code, dry.stderr]).toEqual([0, FAILS]);
  });
});
