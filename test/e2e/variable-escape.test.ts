/**
 * `$$` writes a reference dstack would fill in as it is (`$$model` is the shell's `$model`, not
 * the variable's value), through the planner and the runner alike; any other `$$` is the shell's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: esc
    commands:
      - run_name=shell; model=mine
      - echo "$$run_name/$run_name $$model/$model $\${model}" "pid:$$" | sed 's/pid:[0-9]*/pid:N/'
      - echo '$\${{ github.sha }} $\${{ model }}'
`;

describe('a $$-escaped variable reference in a command', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  esc:\n    model: 124M\n',
    });
  });
  afterAll(() => sb.dispose());

  it('reaches the shell as written, one $ less; the others are filled in', async () => {
    const r = await sb.dstack(['run', 'esc']);
    expect(r.code, r.stderr).toBe(0);
    const { name } = await sb.lastRun();
    expect(r.stdout).toContain(`shell/${name} mine/124M mine pid:N\n\${{ github.sha }} \${{ model }}\n`);
  });
});
