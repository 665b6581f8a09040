/** Variable names as a job and the CLI see them: a dashed name reaches the job braced. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: a
    commands:
      - echo "A=$learning-rate B=\${learning-rate} C=\${{ learning-rate }}"
`;

describe('variable names', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  a:\n    learning-rate: 2e-5\n',
    });
  });
  afterAll(() => sb.dispose());

  it("gives the job ${learning-rate}, and warns that $learning-rate is the shell's $learning then -rate", async () => {
    const r = await sb.dstack(['run', 'a']);
    expect(r.stdout).toContain('A=-rate B=2e-5 C=2e-5\n');
    expect(r.stderr).toContain(
      "warning: .dstack/workflows.yaml:4:9: 'commands.0' of workflow 'a': the shell reads $learning-rate as " +
        "$learning then '-rate'; write ${learning-rate} for the variable 'learning-rate'\n",
    );
    expect(r.code).toBe(0);
  });
});
