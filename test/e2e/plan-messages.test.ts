/**
 * What `dstack run` tells a user before it submits anything: which dependency a refused flag
 * belongs to, the usage of a workflow's variables, the name a typo was meant to be, and a
 * python workflow's missing script or requirements file. Each exits 2 and submits nothing.
 */
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: train
    commands:
      - echo train $steps
  - name: eval
    depends-on: [train]
    commands:
      - echo eval $rows
  - name: epoch
    commands:
      - echo \${{ epoch }}
  - name: pyhton
    provider: pyhton
    python_script: main.py
  - name: script
    provider: python
    python_script: main.py
    requirements: nope.txt
  - name: image
    image: a//b
    commands: [echo]
  - name: image-var
    image: \${{ base }}
    commands: [echo]
  - name: globs
    inputs: [src/**/*.pyy]
    commands: [echo]
  - name: folder
    inputs: [src]
    commands: [echo]
  - name: noscript
    provider: python
    python_script: missing.py --epochs 3
  - name: tiny
    image: ubuntu:22.04
    commands: [echo]
    resources: {memory: 3}
  - name: small
    commands: [echo]
    resources: {memory: 16}
  - name: make
    commands: [echo]
    artifacts: [made]
  - name: use-made
    depends-on: [make]
    inputs: [made/**, src]
    commands: [echo]
`;

describe('dstack run: messages before anything is submitted', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml':
        'variables:\n  train:\n    steps: 1000\n  eval:\n    rows: 100\n  epoch:\n    epochs: 3\n' +
        '  image-var:\n    base: Ubuntu:22.04\n',
      'main.py': 'print("hi")\n',
      'src/m.py': 'print("m")\n',
    });
  });
  afterAll(() => sb.dispose());

  const refused = async (args: string[], stderr: string) => {
    const r = await sb.dstack(['run', ...args]);
    expect(r.stderr).toBe(`error: ${stderr}\n`);
    expect(r.code).toBe(2);
  };

  it("says that a flag is a dependency's variable, and how to change it", () =>
    refused(
      ['eval', '--steps', '10'],
      "unknown option '--steps' for workflow 'eval' (its variables: --rows); 'steps' is a variable of its " +
        "dependency 'train' only: change it in .dstack/variables.yaml, or run train itself with --steps",
    ));

  it('refuses an unknown flag without a value as unknown, not as needing a value', async () => {
    const unknown = (flag: string) => `unknown option '${flag}' for workflow 'train' (its variables: --steps)`;
    await refused(['train', '--bogus'], unknown('--bogus'));
    await refused(['train', '--dry-run', '--no-cache', '--json'], unknown('--json'));
    await refused(['train', '--step'], `${unknown('--step')}; did you mean '--steps'?`);
    await refused(['train', '--steps', '--dry-run'], "option '--steps' needs a value (--steps VALUE)");
  });

  it('shows that a variable flag takes a value', async () => {
    const r = await sb.dstack(['run', 'eval', '--help']);
    expect(r.stdout.split('\n')[0]).toBe('usage: dstack run eval [--rows ROWS]');
    expect(r.code).toBe(0);
  });

  it('suggests the workflow, variable or provider a typo was meant to be', async () => {
    // An undefined dependency stops every plan: this one is written for this test alone.
    await sb.write({
      '.dstack/workflows.yaml': `${WORKFLOWS}  - name: typo\n    depends-on: [trian]\n    commands: [echo]\n`,
    });
    try {
      await refused(
        ['typo'],
        ".dstack/workflows.yaml:49:18: workflow 'typo' depends on 'trian', which is not defined; did you mean 'train'?",
      );
    } finally {
      await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    }
    await refused(
      ['epoch'],
      ".dstack/workflows.yaml:11:9: undefined variable ${{ epoch }} in 'commands.0' of workflow 'epoch': define it " +
        "in .dstack/variables.yaml (under 'global:' or 'epoch:'), or pass --epoch VALUE; did you mean 'epochs'?",
    );
    await refused(
      ['pyhton'],
      ".dstack/workflows.yaml:13:15: workflow 'pyhton' uses provider 'pyhton', which is neither a built-in " +
        'provider (bash, docker, python, curl) nor defined in .dstack/providers.yaml or .dstack/providers/pyhton.mjs; ' +
        "did you mean 'python'?",
    );
  });

  it('refuses a python workflow whose requirements file is not in the project, at its line', () =>
    refused(
      ['script'],
      ".dstack/workflows.yaml:18:19: requirements file 'nope.txt' of workflow 'script' does not exist in the " +
        'project (a path relative to the folder that holds .dstack)',
    ));

  it('refuses a python workflow whose script is not in the project, at its line', () =>
    refused(
      ['noscript'],
      ".dstack/workflows.yaml:33:20: python script 'missing.py' of workflow 'noscript' does not exist in the " +
        'project (a path relative to the folder that holds .dstack)',
    ));

  it('refuses a memory too small to run in, saying the unit of a bare number; warns of a small bare one', async () => {
    await refused(
      ['tiny'],
      ".dstack/workflows.yaml:37:25: invalid resources.memory '3' in workflow 'tiny': expected at least 6MiB, the " +
        'least memory a job runs in (a bare number is megabytes: 3 is 3MB; did you mean 3GB?)',
    );
    const dry = await sb.dstack(['run', 'small', '--dry-run']);
    expect(dry.stderr).toBe(
      "warning: .dstack/workflows.yaml:40:25: 'resources.memory' of workflow 'small': 16 is 16MB (a bare number is " +
        'megabytes); write 16MB to keep it, or 16GB\n',
    );
    expect(dry.stdout).toContain('memory 16MB');
    expect(dry.code).toBe(0);
  });

  it('refuses an image that is no image reference, at its line, or at the variable or flag that made it', async () => {
    const expected =
      'an image reference like ubuntu:22.04 or registry.example.com/team/train:v2 (lowercase names, an optional :tag or @sha256:digest)';
    await refused(
      ['image'],
      `.dstack/workflows.yaml:20:12: invalid image 'a//b' in workflow 'image': expected ${expected}`,
    );
    await refused(
      ['image-var'],
      `.dstack/variables.yaml:9:11: invalid value 'Ubuntu:22.04' of variable 'base': image of workflow 'image-var' ` +
        `(.dstack/workflows.yaml:23:12) takes ${expected}`,
    );
    await refused(
      ['image-var', '--base', 'x/../y'],
      `invalid --base 'x/../y': image of workflow 'image-var' takes ${expected}`,
    );
  });

  it('refuses, in a dry run with no server too, an inputs glob that matches no file; a folder matches', async () => {
    await refused(
      ['globs', '--dry-run'],
      ".dstack/workflows.yaml:26:14: input 'src/**/*.pyy' of workflow 'globs' matches no file of the project, so the " +
        'cache would reuse its results whatever happened to the files it was meant to name; correct it or remove it',
    );
    const dry = await sb.dstack(['run', 'folder', '--dry-run']);
    expect(dry.stdout).toContain('(no server is running: tag dependencies and the cache were not checked)\n');
    expect([dry.code, dry.stderr]).toEqual([0, '']);
    // A glob under what a dependency makes is no code: it counts through that job's key.
    const made = await sb.dstack(['run', 'use-made', '--dry-run']);
    expect([made.code, made.stderr]).toEqual([0, '']);
  });

  it('refuses dstack run without a workflow, naming the workflows (exit 2, nothing on stdout)', async () => {
    const r = await sb.dstack(['run']);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      2,
      '',
      'error: dstack run needs a workflow: dstack run WORKFLOW, one of train, eval, epoch, pyhton, script, image, ' +
        'image-var, globs, folder, noscript, tiny, small, make, use-made (dstack run --help says what each does)\n',
    ]);
    await sb.write({ '.dstack/workflows.yaml': 'workflows: []\n' });
    try {
      const empty = await sb.dstack(['run', '--dry-run']);
      // After the warnings that variables.yaml's sections now name no workflow.
      expect(
        empty.stderr.endsWith('\nerror: dstack run needs a workflow, and .dstack/workflows.yaml defines none yet\n'),
      ).toBe(true);
      expect(empty.code).toBe(2);
    } finally {
      await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    }
  });

  it('refuses status --last, --all, --workflow or --status with a RUN, which would ignore them', async () => {
    for (const option of [['--last', '2'], ['--all'], ['--workflow', 'train'], ['--status', 'failed']]) {
      const r = await sb.dstack(['status', ...option, 'quick-rabbit-1']);
      const given = option.join(' ');
      expect([r.code, r.stderr]).toEqual([
        2,
        `error: ${given} chooses which runs to show, and takes no RUN: 'dstack status quick-rabbit-1' shows that ` +
          `run, 'dstack status ${given}' the runs it chooses\n`,
      ]);
    }
  });

  it('submitted nothing', async () => {
    const status = await sb.dstack(['status', '--last', '5']);
    expect(status.stdout).toContain(`No runs in project ${sb.root} yet`);
  });

  it('outside any project, run --help gives the usage and says where it looked; run alone says what to do', async () => {
    const outside = dirname(sb.root); // the sandbox's own folder: its project is a folder below
    const help = await sb.dstack(['run', '--help'], { cwd: outside });
    expect(help.stdout).toBe(
      'usage: dstack run WORKFLOW [--VARIABLE VALUE]... [-d] [--tag TAG] [--no-cache] [--dry-run]\n\n' +
        `No .dstack/workflows.yaml in ${outside} or its parents.\n`,
    );
    expect(help.code).toBe(0);
    const run = await sb.dstack(['run', 'train'], { cwd: outside });
    expect(run.stderr).toBe(
      `error: no .dstack/workflows.yaml in ${outside} or its parents; run dstack from your project folder\n`,
    );
    expect(run.code).toBe(2);
  });
});
