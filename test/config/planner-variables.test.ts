/**
 * Variables in every string field of a workflow (DESIGN §2): read from real YAML, planned, and
 * each refusal at the line of the field, the variable or the flag that made it.
 */
import { describe, expect, it } from 'vitest';
import { buildProject } from '../../src/config/index.js';
import { UsageError } from '../../src/core/errors.js';
import { plan } from '../../src/core/planner.js';
import { providerRegistry } from '../../src/providers/index.js';
import { fieldsAsJob, yaml } from './helpers.js';

const run = (workflows: string, variables?: string, target = 'train', overrides: Record<string, string> = {}) =>
  plan(buildProject('/p', workflows, variables), { target, overrides }, fieldsAsJob);

const PREPARE = ['  - name: prepare', '    commands: [echo p]'];

describe('variables in depends-on', () => {
  const train = (...deps: string[]) =>
    yaml('workflows:', ...PREPARE, '  - name: train', '    commands: [echo t]', '    depends-on:', ...deps);

  it('name a tag (`p:${{ tg }}`), a workflow (`${{ dep }}`), or both from one value (`prepare:best`)', async () => {
    const vars = yaml('variables:', '  global:', '    tg: best', '    dep: prepare', '    both: prepare:v2');
    const planned = await run(
      train(
        '      - prepare:${{ tg }}',
        '      - ${{ dep }}',
        '      - ${{ both }}',
        '      - {workflow: $dep, tag: $tg}',
      ),
      vars,
    );
    expect(planned.jobs.map((j) => j.ref)).toEqual(['prepare', 'train']);
    expect(planned.jobs[1]!.dependsOn).toEqual([
      { tag: 'best', workflow: 'prepare' },
      { ref: 'prepare' },
      { tag: 'v2', workflow: 'prepare' },
      { tag: 'best', workflow: 'prepare' },
    ]);
    expect(planned.workflows.find((w) => w.name === 'train')!.dependsOn).toEqual([
      { workflow: 'prepare', tag: 'best' },
      { workflow: 'prepare' },
      { workflow: 'prepare', tag: 'v2' },
      { workflow: 'prepare', tag: 'best' },
    ]);
  });

  it('take a flag for a ${{ }} only depends-on names, and plan the workflow it names', async () => {
    const text = train('      - ${{ dep }}');
    const planned = await run(text, undefined, 'train', { dep: 'prepare' });
    expect(planned.jobs.map((j) => j.ref)).toEqual(['prepare', 'train']);
    await expect(run(text, undefined, 'train', { dep: 'prepare:best' })).resolves.toMatchObject({
      jobs: [{ ref: 'train', dependsOn: [{ workflow: 'prepare', tag: 'best' }] }],
    });
  });

  it('refuse a substituted item that is no dependency, at the item, saying what it was written as', async () => {
    const vars = yaml('variables:', '  global:', "    dep: 'Prepare Data'", "    tg: ''", '    other: nope');
    await expect(run(train('      - ${{ dep }}'), vars)).rejects.toThrow(
      ".dstack/workflows.yaml:7:9: 'depends-on.0' of workflow 'train' names 'Prepare Data', which is not a valid " +
        "workflow name (from '${{ dep }}', its variables substituted)",
    );
    await expect(run(train('      - prepare:${{ tg }}'), vars)).rejects.toThrow(
      ".dstack/workflows.yaml:7:9: 'depends-on.0' of workflow 'train' ('prepare:') has an empty tag: write 'name' " +
        "or 'name:tag' (from 'prepare:${{ tg }}', its variables substituted)",
    );
    await expect(run(train('      - prepare:${{ dep }}'), vars)).rejects.toThrow(
      ".dstack/workflows.yaml:7:9: 'depends-on.0' of workflow 'train' has the tag 'Prepare Data', which is not a " +
        "valid tag name: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 " +
        "(from 'prepare:${{ dep }}', its variables substituted)",
    );
    await expect(run(train('      - ${{ other }}'), vars)).rejects.toThrow(
      ".dstack/workflows.yaml:7:9: workflow 'train' depends on 'nope', which is not defined",
    );
    await expect(run(train('      - ${{ nodep }}'), vars)).rejects.toThrow(
      ".dstack/workflows.yaml:7:9: undefined variable ${{ nodep }} in 'depends-on.0' of workflow 'train': " +
        "define it in .dstack/variables.yaml (under 'global:' or 'train:'), or pass --nodep VALUE",
    );
    await expect(run(train('      - p$run_name'), vars)).rejects.toThrow(
      ".dstack/workflows.yaml:7:9: 'depends-on.0' of workflow 'train' uses $run_name, which is known only once the " +
        'job runs; this field is read when the run is planned ($run_name and $job_id are filled in commands, ' +
        'environment, artifacts and provider parameters)',
    );
  });

  it("name the target in an error of a dependency's depends-on, and leave a workflow the run does not need alone", async () => {
    const text = yaml(
      'workflows:',
      '  - name: prepare',
      '    commands: [echo p]',
      '    depends-on: ["${{ nothing }}"]',
      '  - name: train',
      '    commands: [echo t]',
      '    depends-on: [prepare]',
      '  - name: other',
      '    commands: [echo o]',
      '    depends-on: ["${{ nothing }}"]',
    );
    await expect(run(text)).rejects.toThrow(
      "undefined variable ${{ nothing }} in 'depends-on.0' of workflow 'prepare': define it in " +
        ".dstack/variables.yaml (under 'global:' or 'prepare:'), or pass --nothing VALUE (planning 'train', which depends on it)",
    );
    const alone = yaml('workflows:', '  - name: solo', '    commands: [echo s]', ...text.split('\n').slice(7));
    await expect(run(alone, undefined, 'solo')).resolves.toMatchObject({ jobs: [{ ref: 'solo' }] });
  });
});

describe('variables in inputs and interruptible', () => {
  it('substitute inputs, and refuse $run_name there: they are matched before any job runs', async () => {
    const text = (glob: string) =>
      yaml('workflows:', '  - name: train', '    commands: [ls]', `    inputs: ['${glob}']`);
    const vars = yaml('variables:', '  train:', '    out: src');
    const planned = await run(text('${{ out }}/*'), vars);
    expect(planned.workflows[0]!.inputs).toEqual(['src/*']);
    await expect(run(text('$run_name/*'), vars)).rejects.toThrow(
      ".dstack/workflows.yaml:4:14: 'inputs.0' of workflow 'train' uses $run_name, which is known only once the job runs",
    );
    await expect(run(text('../${{ out }}'), vars)).rejects.toThrow(
      ".dstack/workflows.yaml:4:14: input '../src' of workflow 'train' leaves the project folder",
    );
  });

  it('substitute interruptible, and blame a bad value on its variable or flag', async () => {
    const text = yaml(
      'workflows:',
      '  - name: train',
      '    commands: [ls]',
      '    resources:',
      '      interruptible: ${{ intr }}',
    );
    const vars = (value: string) => yaml('variables:', '  train:', `    intr: ${value}`);
    expect((await run(text, vars('yes'))).jobs[0]!.resources.interruptible).toBe(true);
    expect((await run(text, vars('false'))).jobs[0]!.resources.interruptible).toBeUndefined();
    await expect(run(text, vars('maybe'))).rejects.toThrow(
      ".dstack/variables.yaml:3:11: invalid value 'maybe' of variable 'intr': resources.interruptible of workflow " +
        "'train' (.dstack/workflows.yaml:5:22) takes true or false",
    );
    const flag = run(text, vars('true'), 'train', { intr: 'sometimes' });
    await expect(flag).rejects.toThrow(
      "invalid --intr 'sometimes': resources.interruptible of workflow 'train' takes true or false",
    );
    await expect(flag).rejects.toBeInstanceOf(UsageError);
    // Written plainly, it is still checked as the file is read.
    await expect(async () =>
      run(yaml('workflows:', '  - name: train', '    commands: [ls]', '    resources:', '      interruptible: maybe')),
    ).rejects.toThrow(
      ".dstack/workflows.yaml:5:22: 'resources.interruptible' of workflow 'train' must be true or false, not 'maybe'",
    );
  });
});

describe('variables in every other field a provider gets', () => {
  const vars = yaml(
    'variables:',
    '  global:',
    '    py: "3.11"',
    '    script: train.py',
    '    reqs: requirements.txt',
    '    host: example.com',
    '    gpu: A100',
    '    shm: 1GB',
    '    tag: "1.2"',
    '    shards: "3"',
  );

  it('substitute the python and curl parameters, resources, the image and custom parameters', async () => {
    const text = yaml(
      'workflows:',
      '  - name: py',
      '    provider: python',
      '    python_script: ${{ script }} --out out/$run_name',
      '    requirements: ${reqs}',
      '    version: ${{ py }}',
      '  - name: get',
      '    provider: curl',
      '    url: https://${{ host }}/x',
      '    output: data/$run_name.bin',
      '  - name: box',
      '    image: ubuntu:${{ tag }}',
      '    commands: [ls]',
      '    resources:',
      '      shm_size: ${{ shm }}',
      '      gpu: {name: $gpu}',
      '    artifacts: [out/$run_name]',
      '    environment: {WHERE: $host}',
    );
    const config = buildProject('/p', text, vars);
    const jobs = async (target: string) => (await plan(config, { target, overrides: {} }, providerRegistry())).jobs[0]!;
    expect((await jobs('py')).params).toEqual({
      python_script: 'train.py --out out/$run_name',
      requirements: 'requirements.txt',
      version: '3.11',
    });
    expect((await jobs('get')).params).toEqual({ url: 'https://example.com/x', output: 'data/$run_name.bin' });
    const box = await jobs('box');
    expect(box).toMatchObject({ image: 'ubuntu:1.2', artifacts: ['out/$run_name'], env: { WHERE: 'example.com' } });
    expect(box.resources).toMatchObject({ gpu: 1, gpuName: 'A100', shmSize: 1e9 });
  });

  it("substitute a custom provider's own parameters", async () => {
    const text = yaml(
      'workflows:',
      '  - name: train',
      '    provider: fan',
      '    shards: ${{ shards }}',
      '    ports: [x]',
    );
    expect((await run(text, vars)).jobs[0]!.params).toMatchObject({ shards: '3' });
  });
});

describe("variables and the job's environment", () => {
  const text = yaml('workflows:', '  - name: train', '    commands: [env]', '  - name: other', '    commands: [env]');
  const clash = (a: string, at: string, b: string, bt: string, env: string) =>
    `variables '${a}' (${at}) and '${b}' (${bt}) of workflow 'train' would both be the job's environment variable ` +
    `${env} (each variable is in it, upper-cased), the one replacing the other: rename one`;

  it('refuse two variables with one environment name, naming both and where each is set', async () => {
    const same = yaml('variables:', '  global:', '    y: "1"', '    Y: "2"');
    await expect(run(text, same)).rejects.toThrow(
      `.dstack/variables.yaml:4:8: ${clash('y', '.dstack/variables.yaml:3:8', 'Y', '.dstack/variables.yaml:4:8', 'Y')}`,
    );
    // A workflow's own section and the global one: only that workflow sees both.
    const sections = yaml('variables:', '  global:', '    Foo_bar: a', '  train:', '    foo_bar: b');
    const e = run(text, sections);
    await expect(e).rejects.toThrow(
      `.dstack/variables.yaml:5:14: ${clash('Foo_bar', '.dstack/variables.yaml:3:14', 'foo_bar', '.dstack/variables.yaml:5:14', 'FOO_BAR')}`,
    );
    await expect(run(text, sections, 'other')).resolves.toBeDefined();
  });

  it('name the flag that sets one of them', async () => {
    const flagged = yaml('workflows:', '  - name: train', "    commands: ['echo ${{ LR }}']");
    await expect(
      run(flagged, yaml('variables:', '  global:', '    lr: "0.1"'), 'train', { LR: '0.2' }),
    ).rejects.toThrow(
      `.dstack/variables.yaml:3:9: variables 'lr' (.dstack/variables.yaml:3:9) and 'LR' (--LR) of workflow 'train'`,
    );
  });
});
