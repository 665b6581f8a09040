/**
 * Artifact paths the runner would take literally: a glob, `$HOME`, `~`. Each would save nothing,
 * the job ending DONE with only a log note, so they are refused when the run is planned, at the
 * artifact's line and field; `$run_name`, `$job_id` and the run's variables are not.
 */
import { describe, expect, it } from 'vitest';
import { buildProject } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { plan } from '../../src/core/planner.js';
import { fieldsAsJob, yaml } from './helpers.js';

const workflows = (...artifacts: string[]) =>
  yaml(
    'workflows:',
    '  - name: train',
    '    commands: [ls]',
    '    artifacts:',
    ...artifacts.map((a) => `      - '${a}'`),
  );

const run = (text: string, variables?: string) =>
  plan(buildProject('/p', text, variables), { target: 'train', overrides: {} }, fieldsAsJob);

async function refusal(text: string, variables?: string): Promise<ConfigError> {
  const e: unknown = await run(text, variables).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(e)}`);
  return e;
}

const ARTIFACT =
  'an artifact is one folder or file, named as it is: relative to the project, or absolute for a job with an image';

describe('artifact paths dstack would take literally', () => {
  it('refuses a glob at its line and field, naming the folder to save instead', async () => {
    const e = await refusal(workflows('logs', 'out/*.pt'));
    expect(e.message).toBe(
      `.dstack/workflows.yaml:6:9: artifact path 'out/*.pt' of workflow 'train' is a glob, which dstack does not ` +
        `expand: ${ARTIFACT} (name the folder 'out')`,
    );
    expect(e.field).toBe('artifacts.1');
    expect((await refusal(workflows('ckpt-?.pt'))).detail).toBe(
      `artifact path 'ckpt-?.pt' of workflow 'train' is a glob, which dstack does not expand: ${ARTIFACT} ` +
        '(put the files in a folder, and name that)',
    );
    expect((await refusal(workflows('runs/$run_name/**/best'))).detail).toMatch(
      /\(name the folder 'runs\/\$run_name'\)$/,
    );
  });

  it("refuses $HOME, ${HOME}, $(…) and '~', which nothing expands", async () => {
    const shell = (path: string, ref: string) =>
      `artifact path '${path}' of workflow 'train' uses ${ref}, which dstack does not expand (it fills in the run's ` +
      `variables, $run_name and $job_id alone): ${ARTIFACT}`;
    const home = await refusal(workflows('$HOME/x'));
    expect(home.message).toBe(`.dstack/workflows.yaml:5:9: ${shell('$HOME/x', '$HOME')}`);
    expect(home.field).toBe('artifacts.0');
    expect((await refusal(workflows('out/${DIR}'))).detail).toBe(shell('out/${DIR}', '${DIR}'));
    expect((await refusal(workflows('$(date)'))).detail).toBe(shell('$(date)', '$('));
    // A variable's value is substituted first: a glob it makes is refused as written.
    expect(
      (await refusal(workflows('out/$pattern'), yaml('variables:', '  train:', '    pattern: "*.pt"'))).detail,
    ).toBe(
      `artifact path 'out/*.pt' of workflow 'train' is a glob, which dstack does not expand: ${ARTIFACT} ` +
        "(name the folder 'out')",
    );
    expect((await refusal(workflows('~/x'))).detail).toBe(
      `artifact path '~/x' of workflow 'train' starts with '~', which dstack does not expand to a home folder: ${ARTIFACT}`,
    );
  });

  it('plans $run_name, $job_id, variables, brackets and a ~ or $ inside a name, as the runner saves them', async () => {
    const planned = await run(
      workflows('out/$run_name', 'ckpt/${job_id}', 'logs/${{ run_name }}', 'm/$model', 'reqs[dev]', 'a~', 'price$'),
      yaml('variables:', '  train:', '    model: 124M'),
    );
    expect(planned.jobs[0]!.artifacts).toEqual([
      'out/$run_name',
      'ckpt/${job_id}',
      'logs/${{ run_name }}',
      'm/124M',
      'reqs[dev]',
      'a~',
      'price$',
    ]);
  });
});
