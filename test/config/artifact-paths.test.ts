/**
 * Artifact paths the runner would take literally: a glob, `$HOME`, `~`. Each would save nothing,
 * the job ending DONE with only a log note, so they are refused when the run is planned, at the
 * artifact's line and field; `$run_name`, `$job_id` and the run's variables are not.
 */
import { describe, expect, it } from 'vitest';
import { buildProject } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { plan, type ProviderJob } from '../../src/core/planner.js';
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

/** As `run`, for a workflow with an image: its job runs in a container, where absolute artifacts are allowed. */
const runInImage = (text: string) =>
  plan(buildProject('/p', text), { target: 'train', overrides: {} }, (wf, ctx) =>
    (fieldsAsJob(wf, ctx) as ProviderJob[]).map((job) => ({ ...job, image: wf.image! })),
  );

async function refusal(text: string, variables?: string, planned = run(text, variables)): Promise<ConfigError> {
  const e: unknown = await planned.then(
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

  it("refuses absolute paths a container cannot have a job's folder mounted at, at the artifact's line", async () => {
    const image = (artifact: string) =>
      yaml(
        'workflows:',
        '  - name: train',
        '    image: busybox',
        '    commands: [ls]',
        '    artifacts:',
        `      - '${artifact}'`,
      );
    const instead = 'name a folder the job writes its files to, such as /opt/results';
    const refused = async (artifact: string) => {
      const e = await refusal('', undefined, runInImage(image(artifact)));
      expect(e.message.startsWith('.dstack/workflows.yaml:6:9: ')).toBe(true);
      expect(e.field).toBe('artifacts.0');
      return e.detail;
    };
    const of = (path: string) => `artifact path '${path}' of workflow 'train'`;
    expect(await refused('/workspace/')).toBe(
      `${of('/workspace/')} is /workspace, the job's workspace itself: name a folder or file of the project, relative to it`,
    );
    expect(await refused('/workspace/out')).toBe(
      `${of('/workspace/out')} is inside /workspace, the job's workspace: name it relative to the project ('out')`,
    );
    for (const [path, dir] of [
      ['/.dstack', '/.dstack'],
      ['/.dstack/job.sh', '/.dstack'],
      ['/opt/dstack/venv', '/opt/dstack'],
    ])
      expect(await refused(path!)).toBe(
        `${of(path!)} is in ${dir}, where dstack mounts its own files in a job's container: ${instead}`,
      );
    for (const [path, dir] of [
      ['/proc/x', '/proc'],
      ['/sys', '/sys'],
      ['/dev/shm', '/dev'],
    ])
      expect(await refused(path!)).toBe(
        `${of(path!)} is in ${dir}, a file system the kernel gives every container, not files a job saves: ${instead}`,
      );
    expect(await refused('/etc')).toBe(
      `${of('/etc')} is /etc, where the engine mounts the container's hosts, hostname and resolv.conf files: ${instead}`,
    );
    expect(await refused('/etc/resolv.conf')).toBe(
      `${of('/etc/resolv.conf')} is a file the engine mounts in every container: ${instead}`,
    );
    // Folders of the image's own, /etc's below it included, are the job's to save.
    const planned = await runInImage(image('/opt/conda'));
    expect(planned.jobs[0]!.artifacts).toEqual(['/opt/conda']);
    expect((await runInImage(image('/etc/myapp/'))).jobs[0]!.artifacts).toEqual(['/etc/myapp']);
    expect(planned.warnings).toEqual([]);
  });

  it('warns that an absolute artifact named like a file is a folder', async () => {
    const text = yaml(
      'workflows:',
      '  - name: train',
      '    image: busybox',
      '    commands: [ls]',
      '    artifacts: [/opt/model.bin, /opt/conda]',
    );
    const planned = await runInImage(text);
    expect(planned.jobs[0]!.artifacts).toEqual(['/opt/model.bin', '/opt/conda']);
    expect(planned.warnings).toEqual([
      ".dstack/workflows.yaml:5:17: artifact path '/opt/model.bin' of workflow 'train' is named like a file, but an " +
        "absolute artifact is a folder, mounted at its path (a job that writes a file there fails with 'Is a " +
        "directory'): write the file in a folder (/opt/model/model.bin) and name the folder ('/opt/model')",
    ]);
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
