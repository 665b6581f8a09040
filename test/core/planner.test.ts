import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import { plan, type Plan, type ProviderFn } from '../../src/core/planner.js';
import type { ProjectConfig, VariablesConfig, WorkflowConfig } from '../../src/core/workflow.js';
import { builtinJobs } from '../../src/providers/builtin.js';
import { providerRegistry } from '../../src/providers/index.js';

const FILE = '.dstack/workflows.yaml';
const IMAGE = 'tensorflow/tensorflow:1.15.0-py3';
const builtin: ProviderFn = (wf) => builtinJobs(wf);

/** A workflow as config/ would hand it over; `line` is where its `- name:` item is. */
function workflow(name: string, line: number, fields: Partial<WorkflowConfig> = {}): WorkflowConfig {
  return {
    name,
    provider: 'docker',
    image: IMAGE,
    commands: ['true'],
    dependsOn: [],
    artifacts: [],
    resources: {},
    environment: {},
    params: {},
    locations: {},
    location: { file: FILE, line },
    ...fields,
  };
}

function project(
  workflows: WorkflowConfig[],
  global: Record<string, string> = {},
  perWorkflow: Record<string, Record<string, string>> = {},
): ProjectConfig {
  const variables: VariablesConfig = { global, perWorkflow, locations: {} };
  return { root: '/work/project', workflows, variables, warnings: [] };
}

/** The GPT-2 tutorial of the reference docs. */
function gpt2(): ProjectConfig {
  return project(
    [
      workflow('download-model', 2, {
        commands: ['pip3 install -r requirements.txt', 'python3 download_model.py $model'],
        artifacts: ['models'],
      }),
      workflow('encode-dataset', 10, {
        commands: [
          'pip3 install -r requirements.txt',
          'mkdir -p datasets',
          'PYTHONPATH=src ./encode.py --model_name ${{ model }} input.txt datasets/input.npy',
        ],
        artifacts: ['datasets'],
        dependsOn: [{ workflow: 'download-model' }],
      }),
      workflow('finetune-model', 22, {
        commands: [
          'pip3 install -r requirements.txt',
          'PYTHONPATH=src python3 train.py --run_name $run_name --model_name $model --dataset datasets/input.npy $variables_as_args',
        ],
        artifacts: ['checkpoint', 'samples'],
        dependsOn: [{ workflow: 'download-model' }, { workflow: 'encode-dataset' }],
      }),
    ],
    { model: '124M', models_dir: 'model' },
    { 'finetune-model': { combine: '50000', encoding: 'utf-8', batch_size: '1', learning_rate: '0.00002' } },
  );
}

function job(p: Plan, ref: string) {
  const found = p.jobs.find((j) => j.ref === ref);
  if (!found) throw new Error(`no job ${ref} in the plan: ${p.jobs.map((j) => j.ref).join(', ')}`);
  return found;
}

/** The error `promise` rejects with, of the given class; fails the test otherwise. */
async function rejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}, but the plan succeeded`);
}

describe('plan: the dependency closure', () => {
  it('plans the GPT-2 chain dependencies first, each job depending on its workflows refs', async () => {
    const p = await plan(gpt2(), { target: 'finetune-model', overrides: {} }, builtin);
    expect(p.target).toBe('finetune-model');
    expect(p.jobs.map((j) => j.ref)).toEqual(['download-model', 'encode-dataset', 'finetune-model']);
    expect(p.jobs.map((j) => j.workflow)).toEqual(['download-model', 'encode-dataset', 'finetune-model']);
    expect(job(p, 'download-model').dependsOn).toEqual([]);
    expect(job(p, 'encode-dataset').dependsOn).toEqual([{ ref: 'download-model' }]);
    expect(job(p, 'finetune-model').dependsOn).toEqual([{ ref: 'download-model' }, { ref: 'encode-dataset' }]);
  });

  it('plans only what the target needs', async () => {
    const p = await plan(gpt2(), { target: 'encode-dataset', overrides: {} }, builtin);
    expect(p.jobs.map((j) => j.ref)).toEqual(['download-model', 'encode-dataset']);
    const alone = await plan(gpt2(), { target: 'download-model', overrides: {} }, builtin);
    expect(alone.jobs.map((j) => j.ref)).toEqual(['download-model']);
  });

  it('plans a shared dependency once', async () => {
    const config = project([
      workflow('base', 1),
      workflow('left', 4, { dependsOn: [{ workflow: 'base' }] }),
      workflow('right', 8, { dependsOn: [{ workflow: 'base' }] }),
      workflow('top', 12, { dependsOn: [{ workflow: 'left' }, { workflow: 'right' }] }),
    ]);
    const p = await plan(config, { target: 'top', overrides: {} }, builtin);
    expect(p.jobs.map((j) => j.ref)).toEqual(['base', 'left', 'right', 'top']);
  });

  it('turns a tag dependency into {tag, workflow} and does not plan that workflow', async () => {
    const config = project([
      workflow('prepare', 1),
      workflow('train', 5, { dependsOn: [{ workflow: 'prepare', tag: 'latest' }] }),
    ]);
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(p.jobs.map((j) => j.ref)).toEqual(['train']);
    expect(job(p, 'train').dependsOn).toEqual([{ tag: 'latest', workflow: 'prepare' }]);
  });

  it('keeps the written order of local and tag dependencies', async () => {
    const config = project([
      workflow('prepare', 1),
      workflow('download', 3),
      workflow('train', 5, {
        dependsOn: [{ workflow: 'prepare', tag: 'v1' }, { workflow: 'download' }],
      }),
    ]);
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(job(p, 'train').dependsOn).toEqual([{ tag: 'v1', workflow: 'prepare' }, { ref: 'download' }]);
  });

  it('makes dependents wait for the final jobs of a provider that makes several', async () => {
    const config = project([
      workflow('prepare', 1, { provider: 'split' }),
      workflow('train', 5, { dependsOn: [{ workflow: 'prepare' }] }),
    ]);
    const provider: ProviderFn = (wf) => {
      if (wf.provider !== 'split') return builtinJobs(wf);
      const base = builtinJobs({ ...wf, provider: 'bash' })[0]!;
      return [
        { ...base, ref: `${wf.name}/fetch` },
        { ...base, ref: `${wf.name}/a`, dependsOn: [`${wf.name}/fetch`] },
        { ...base, ref: `${wf.name}/b`, dependsOn: [`${wf.name}/fetch`] },
      ];
    };
    const p = await plan(config, { target: 'train', overrides: {} }, provider);
    expect(p.jobs.map((j) => [j.ref, j.workflow, j.dependsOn])).toEqual([
      ['prepare/fetch', 'prepare', []],
      ['prepare/a', 'prepare', [{ ref: 'prepare/fetch' }]],
      ['prepare/b', 'prepare', [{ ref: 'prepare/fetch' }]],
      ['train', 'train', [{ ref: 'prepare/a' }, { ref: 'prepare/b' }]],
    ]);
  });
});

describe('plan: variables', () => {
  it('substitutes $model and ${{ model }} in commands', async () => {
    const p = await plan(gpt2(), { target: 'finetune-model', overrides: {} }, builtin);
    expect(job(p, 'download-model').commands).toEqual([
      'pip3 install -r requirements.txt',
      'python3 download_model.py 124M',
    ]);
    expect(job(p, 'encode-dataset').commands[2]).toBe(
      'PYTHONPATH=src ./encode.py --model_name 124M input.txt datasets/input.npy',
    );
  });

  it('expands $variables_as_args to the workflow own variables and leaves $run_name for the runner', async () => {
    const p = await plan(gpt2(), { target: 'finetune-model', overrides: {} }, builtin);
    expect(job(p, 'finetune-model').commands[1]).toBe(
      'PYTHONPATH=src python3 train.py --run_name $run_name --model_name 124M --dataset datasets/input.npy ' +
        '--combine 50000 --encoding utf-8 --batch_size 1 --learning_rate 0.00002',
    );
  });

  it('records the variables each job sees, in definition order', async () => {
    const p = await plan(gpt2(), { target: 'finetune-model', overrides: {} }, builtin);
    expect(job(p, 'download-model').variables).toEqual({ model: '124M', models_dir: 'model' });
    expect(Object.keys(job(p, 'finetune-model').variables)).toEqual([
      'model',
      'models_dir',
      'combine',
      'encoding',
      'batch_size',
      'learning_rate',
    ]);
  });

  it('applies overrides to the target and to every dependency that sees the variable', async () => {
    const p = await plan(gpt2(), { target: 'finetune-model', overrides: { model: '345M', batch_size: '4' } }, builtin);
    expect(job(p, 'download-model').commands[1]).toBe('python3 download_model.py 345M');
    expect(job(p, 'download-model').variables).toEqual({ model: '345M', models_dir: 'model' });
    expect(job(p, 'encode-dataset').commands[2]).toContain('--model_name 345M ');
    expect(job(p, 'finetune-model').commands[1]).toBe(
      'PYTHONPATH=src python3 train.py --run_name $run_name --model_name 345M --dataset datasets/input.npy ' +
        '--combine 50000 --encoding utf-8 --batch_size 4 --learning_rate 0.00002',
    );
    expect(job(p, 'finetune-model').variables).toMatchObject({ model: '345M', batch_size: '4' });
  });

  it('shell-quotes an override with spaces in $variables_as_args', async () => {
    const config = project(
      [workflow('gen', 1, { commands: ['python3 gen.py $variables_as_args'] })],
      {},
      {
        gen: { prompt: 'once upon' },
      },
    );
    const p = await plan(config, { target: 'gen', overrides: { prompt: "it's a time" } }, builtin);
    expect(job(p, 'gen').commands).toEqual([`python3 gen.py --prompt 'it'\\''s a time'`]);
  });

  it('warns once a run that a value with shell syntax is pasted into commands as written, naming its variable', async () => {
    const at = (line: number) => ({ file: FILE, line, column: 9 });
    const config = project(
      [
        workflow('prepare', 1, {
          commands: ['echo $msg', 'echo ${{ msg }} $variables_as_args'],
          artifacts: ['$out'],
          locations: { 'commands.0': at(4), 'commands.1': at(5) },
        }),
        workflow('train', 8, {
          commands: ['echo ${msg} $plain $out'],
          dependsOn: [{ workflow: 'prepare' }],
          locations: { 'commands.0': at(11) },
        }),
      ],
      { msg: 'hi', plain: '2e-5', out: 'my data' },
      { prepare: { seed: 'a b' } },
    );
    const p = await plan(config, { target: 'train', overrides: { msg: 'two words; echo INJECTED' } }, builtin);
    // The substitution itself stays textual: the spec's template semantics.
    expect(job(p, 'prepare').commands).toEqual([
      'echo two words; echo INJECTED',
      "echo two words; echo INJECTED --seed 'a b'",
    ]);
    const pasted = (line: number, field: string, wf: string, name: string, env: string) =>
      `${FILE}:${line}:9: '${field}' of workflow '${wf}': the value of variable '${name}' is pasted into the command ` +
      'as written, and has characters the shell reads as syntax (whitespace, quotes, ;&|<>()$`\\*?[); ' +
      `the job has it in its environment: ${env} gives the shell the value as one word`;
    // Not for $variables_as_args (quoted), plain values, or fields other than commands (the artifact's $out).
    expect(p.warnings).toEqual([
      pasted(4, 'commands.0', 'prepare', 'msg', '"$MSG"'),
      pasted(11, 'commands.0', 'train', 'out', '"$OUT"'),
    ]);
  });

  it('leaves $run_name, ${job_id} and ${{ run_name }} for the runner, and shell variables for the shell', async () => {
    const config = project([
      workflow('w', 1, {
        commands: ['echo $run_name ${job_id} ${{ run_name }} ${{ job_id }}', 'echo $PATH ${HOME} $1'],
      }),
    ]);
    const p = await plan(config, { target: 'w', overrides: {} }, builtin);
    expect(job(p, 'w').commands).toEqual([
      'echo $run_name ${job_id} ${{ run_name }} ${{ job_id }}',
      'echo $PATH ${HOME} $1',
    ]);
  });

  it('substitutes ${learning-rate}, and warns at the command about $learning-rate, which the shell splits', async () => {
    const config = project(
      [
        workflow('train', 1, {
          commands: ['echo "A=$learning-rate B=${learning-rate} C=${{ learning-rate }}"'],
          locations: { 'commands.0': { file: FILE, line: 4, column: 9 } },
        }),
      ],
      {},
      { train: { 'learning-rate': '2e-5' } },
    );
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(job(p, 'train').commands).toEqual(['echo "A=$learning-rate B=2e-5 C=2e-5"']);
    expect(p.warnings).toEqual([
      `${FILE}:4:9: 'commands.0' of workflow 'train': the shell reads $learning-rate as $learning then '-rate'; ` +
        "write ${learning-rate} for the variable 'learning-rate'",
    ]);
  });

  it('does not warn about $learning-rate when learning is a variable: it is replaced, -rate stays', async () => {
    const config = project([workflow('train', 1, { commands: ['echo $learning-rate'] })], {
      learning: '1',
      'learning-rate': '2e-5',
    });
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(job(p, 'train').commands).toEqual(['echo 1-rate']);
    expect(p.warnings).toEqual([]);
  });

  it('substitutes in the image, environment, artifacts and provider parameters', async () => {
    const config = project(
      [
        workflow('train', 1, {
          provider: 'python',
          image: 'pytorch/pytorch:${{ torch }}',
          commands: [],
          environment: { MODEL_DIR: '$models_dir/$model', KEEP: '$HOME' },
          artifacts: ['${{ models_dir }}/${model}_v2'],
          params: { python_script: '${{ script }}', args: ['--lr', '$lr'], nested: { file: '$script' } },
        }),
      ],
      { model: '124M', models_dir: 'model', torch: '1.10.0', script: 'train.py', lr: '0.1' },
    );
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    const j = job(p, 'train');
    expect(j.image).toBe('pytorch/pytorch:1.10.0');
    expect(j.env).toEqual({ MODEL_DIR: 'model/124M', KEEP: '$HOME' });
    expect(j.artifacts).toEqual(['model/124M_v2']);
    expect(j.params).toEqual({ python_script: 'train.py', args: ['--lr', '0.1'], nested: { file: 'train.py' } });
  });
});

describe('plan: resources', () => {
  it('resolves gpu: ${{ tgpu }} and the other resources', async () => {
    const config = project(
      [
        workflow('train', 1, {
          resources: {
            cpu: '4',
            memory: '${{ mem }}',
            gpu: { count: '${{ tgpu }}', name: '$gpu_name', memory: '16GiB' },
            shmSize: '2GB',
          },
        }),
      ],
      { tgpu: '2', mem: '32GB', gpu_name: 'A100' },
    );
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(job(p, 'train').resources).toEqual({
      cpu: 4,
      memory: 32e9,
      gpu: 2,
      gpuName: 'A100',
      gpuMemory: 16 * 2 ** 30,
      shmSize: 2e9,
    });
  });

  it('asks for one GPU when the gpu mapping names a GPU but gives no count', async () => {
    const config = project([workflow('train', 1, { resources: { gpu: { name: 'V100', memory: '16GB' } } })]);
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(job(p, 'train').resources).toEqual({ cpu: 1, memory: 0, gpu: 1, gpuName: 'V100', gpuMemory: 16e9 });
  });

  it('asks for one CPU and nothing else when resources are not given', async () => {
    const p = await plan(project([workflow('w', 1)]), { target: 'w', overrides: {} }, builtin);
    expect(job(p, 'w').resources).toEqual({ cpu: 1, memory: 0, gpu: 0 });
  });

  it('takes an overridden gpu count', async () => {
    const config = project(
      [workflow('train', 1, { resources: { gpu: { count: '${{ tgpu }}' } } })],
      {},
      {
        train: { tgpu: '1' },
      },
    );
    const p = await plan(config, { target: 'train', overrides: { tgpu: '4' } }, builtin);
    expect(job(p, 'train').resources.gpu).toBe(4);
  });

  it('rejects a memory that is no size', async () => {
    const config = project([
      workflow('train', 3, {
        resources: { memory: 'lots' },
        locations: { 'resources.memory': { file: FILE, line: 7, column: 15 } },
      }),
    ]);
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:7:15: invalid resources.memory 'lots' in workflow 'train': expected a size like 512MB or 32GB`,
    );
    expect(e.field).toBe('resources.memory');
  });

  it('refuses a memory under 6MiB, saying a bare number is megabytes, at its line or at the variable', async () => {
    const at = { 'resources.memory': { file: FILE, line: 7, column: 15 } };
    const refusal = async (memory: string, vars: Record<string, string> = {}) => {
      const config = project([workflow('train', 3, { resources: { memory }, locations: at })], vars);
      return (await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError)).message;
    };
    expect(await refusal('3')).toBe(
      `${FILE}:7:15: invalid resources.memory '3' in workflow 'train': expected at least 6MiB, the least memory a ` +
        'job runs in (a bare number is megabytes: 3 is 3MB; did you mean 3GB?)',
    );
    expect(await refusal('6MB')).toBe(
      `${FILE}:7:15: invalid resources.memory '6MB' in workflow 'train': expected at least 6MiB, the least memory a job runs in`,
    );
    // Made by a variable (with no line of its own here): the value it took.
    expect(await refusal('$mem', { mem: '0.5' })).toBe(
      `${FILE}:7:15: invalid resources.memory '0.5' in workflow 'train': expected at least 6MiB, the least memory a ` +
        'job runs in (a bare number is megabytes: 0.5 is 0.5MB; did you mean 0.5GB?)',
    );
  });

  it('plans a bare memory under a gigabyte with a warning that says the unit; with the unit, or 0, without one', async () => {
    const planned = (memory: string) =>
      plan(
        project([
          workflow('train', 3, {
            resources: { memory },
            locations: { 'resources.memory': { file: FILE, line: 7, column: 15 } },
          }),
        ]),
        { target: 'train', overrides: {} },
        builtin,
      );
    const p = await planned('16');
    expect(job(p, 'train').resources.memory).toBe(16e6);
    expect(p.warnings).toEqual([
      `${FILE}:7:15: 'resources.memory' of workflow 'train': 16 is 16MB (a bare number is megabytes); write 16MB to keep it, or 16GB`,
    ]);
    for (const memory of ['16MB', '6MiB', '2048', '0']) expect((await planned(memory)).warnings).toEqual([]);
    expect(job(await planned('6MiB'), 'train').resources.memory).toBe(6 * 2 ** 20);
  });

  it('rejects a cpu count that is not a whole number, at the workflow when the field has no location', async () => {
    const config = project([workflow('train', 3, { resources: { cpu: '2.5' } })]);
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(`${FILE}:3: invalid resources.cpu '2.5' in workflow 'train': expected a whole number`);
  });

  it('rejects a gpu count that a variable makes invalid', async () => {
    const config = project([workflow('train', 3, { resources: { gpu: { count: '$n' } } })], { n: 'two' });
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(`${FILE}:3: invalid resources.gpu 'two' in workflow 'train': expected a whole number`);
  });

  it('says how to ask for a GPU model written as the gpu count', async () => {
    const config = project([workflow('train', 3, { resources: { gpu: { count: 'A100' } } })]);
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:3: invalid resources.gpu 'A100' in workflow 'train': expected a whole number of GPUs; ` +
        'to ask for a model, write gpu: {name: A100} (one GPU) or gpu: {count: 2, name: A100}',
    );
  });
});

describe('plan: errors a user sees', () => {
  it('rejects an unknown --flag, listing the workflow variables', async () => {
    const e = await rejection(
      plan(gpt2(), { target: 'finetune-model', overrides: { lr: '0.1' } }, builtin),
      UsageError,
    );
    expect(e.message).toBe(
      "unknown option '--lr' for workflow 'finetune-model' " +
        '(its variables: --model, --models_dir, --combine, --encoding, --batch_size, --learning_rate)',
    );
  });

  it("rejects a flag that only another workflow's own section defines, naming that workflow", async () => {
    const e = await rejection(
      plan(gpt2(), { target: 'download-model', overrides: { batch_size: '4' } }, builtin),
      UsageError,
    );
    expect(e.message).toBe(
      "unknown option '--batch_size' for workflow 'download-model' (its variables: --model, --models_dir); " +
        "'batch_size' is a variable of workflow 'finetune-model': dstack run finetune-model --batch_size VALUE",
    );
  });

  it('says which dependency a refused flag belongs to, and how to change it', async () => {
    const config = project(
      [workflow('train', 2), workflow('eval', 6, { dependsOn: [{ workflow: 'train' }] })],
      {},
      { train: { steps: '1000' }, eval: { rows: '100' } },
    );
    const e = await rejection(plan(config, { target: 'eval', overrides: { steps: '10' } }, builtin), UsageError);
    expect(e.message).toBe(
      "unknown option '--steps' for workflow 'eval' (its variables: --rows); 'steps' is a variable of its " +
        "dependency 'train' only: change it in .dstack/variables.yaml, or run train itself with --steps",
    );
  });

  it("refuses a flag for a dependency's own variable though the dependency references it with ${{ }}", async () => {
    const config = project(
      [
        workflow('prepare', 2, { commands: ['echo ${{ pgpu }}'] }),
        workflow('train', 5, { dependsOn: [{ workflow: 'prepare' }], commands: ['echo ${{ tgpu }}'] }),
      ],
      {},
      { prepare: { pgpu: '0' }, train: { tgpu: '1' } },
    );
    const e = await rejection(plan(config, { target: 'train', overrides: { pgpu: '1' } }, builtin), UsageError);
    expect(e.message).toBe(
      "unknown option '--pgpu' for workflow 'train' (its variables: --tgpu); 'pgpu' is a variable of its " +
        "dependency 'prepare' only: change it in .dstack/variables.yaml, or run prepare itself with --pgpu",
    );
  });

  it('takes a flag for a ${{ }} the run references undefined, and refuses one only workflows outside it reference', async () => {
    const config = project([
      workflow('prepare', 2, { commands: ['echo ${{ rows }}'] }),
      workflow('train', 5, { dependsOn: [{ workflow: 'prepare' }] }),
      workflow('other', 8, { commands: ['echo ${{ zzz }}'] }),
    ]);
    const p = await plan(config, { target: 'train', overrides: { rows: '10' } }, builtin);
    expect(job(p, 'prepare').commands).toEqual(['echo 10']);
    const e = await rejection(plan(config, { target: 'train', overrides: { zzz: '1' } }, builtin), UsageError);
    expect(e.message).toBe(
      "unknown option '--zzz' for workflow 'train' (it has no variables; define them in .dstack/variables.yaml)",
    );
  });

  it('takes a flag for any undefined ${{ }} when a depends-on item uses variables, its run unknown until then', async () => {
    const config = project([
      workflow('a', 2, { commands: ['echo ${{ zzz }}'] }),
      workflow('b', 5, { dependsOn: [{ workflow: '${{ dep }}' }] }),
    ]);
    const p = await plan(config, { target: 'b', overrides: { dep: 'a', zzz: '1' } }, builtin);
    expect(job(p, 'a').commands).toEqual(['echo 1']);
  });

  it('names every dependency, direct or not, that has a refused flag', async () => {
    const config = project(
      [
        workflow('a', 2),
        workflow('b', 5, { dependsOn: [{ workflow: 'a' }] }),
        workflow('c', 8, { dependsOn: [{ workflow: 'b' }] }),
      ],
      {},
      { a: { lr: '0.1' }, b: { lr: '0.2' } },
    );
    const e = await rejection(plan(config, { target: 'c', overrides: { lr: '0.3' } }, builtin), UsageError);
    expect(e.message).toBe(
      "unknown option '--lr' for workflow 'c' (it has no variables; define them in .dstack/variables.yaml); " +
        "'lr' is a variable of its dependencies 'b', 'a' only: change it in .dstack/variables.yaml, " +
        'or run b or a itself with --lr',
    );
  });

  it('rejects a flag naming a system variable, even one a ${{ }} references, naming the flag', async () => {
    const config = project([workflow('w', 1, { commands: ['echo ${{ run_name }} ${{ path }}'] })], { epochs: '3' });
    for (const [name, what] of [
      ['run_name', "the run's name"],
      ['job_id', "the job's id"],
      ['variables_as_args', "the workflow's variables as --name value"],
    ]) {
      const e = await rejection(plan(config, { target: 'w', overrides: { [name!]: 'cli' } }, builtin), UsageError);
      expect(e.message).toBe(
        `option '--${name}' cannot be given: $${name} is a system variable (${what}), which dstack sets`,
      );
    }
  });

  it("rejects a flag that would set the job's PATH or a DSTACK_ setting, though a ${{ }} references it", async () => {
    const config = project([workflow('w', 1, { commands: ['ls ${{ path }} ${{ dstack_workflow }}'] })]);
    const e = await rejection(plan(config, { target: 'w', overrides: { path: '/x' } }, builtin), UsageError);
    expect(e.message).toBe(
      "option '--path' cannot be given: it would set the job's PATH (each variable is in the job's environment, upper-cased)",
    );
    const d = await rejection(plan(config, { target: 'w', overrides: { dstack_workflow: 'x' } }, builtin), UsageError);
    expect(d.message).toContain("option '--dstack_workflow' cannot be given: it would set the job's DSTACK_WORKFLOW");
    // Without the flag, the reference can have no value: the error says so rather than how to define it.
    const u = await rejection(plan(config, { target: 'w', overrides: {} }, builtin), ConfigError);
    expect(u.message).toBe(
      `${FILE}:1: undefined variable \${{ path }} in 'commands.0' of workflow 'w': no variable can be named 'path', ` +
        "which would replace the job's PATH: rename it",
    );
  });

  it('rejects any flag for a workflow without variables, saying where to define them', async () => {
    const e = await rejection(
      plan(project([workflow('w', 1)]), { target: 'w', overrides: { x: '1' } }, builtin),
      UsageError,
    );
    expect(e.message).toBe(
      "unknown option '--x' for workflow 'w' (it has no variables; define them in .dstack/variables.yaml)",
    );
  });

  it('rejects an undefined ${{ gpu }}, pointing at variables.yaml and --gpu', async () => {
    const config = project([
      workflow('train', 3, {
        resources: { gpu: { count: '${{ gpu }}' } },
        locations: { 'resources.gpu': { file: FILE, line: 8, column: 12 } },
      }),
    ]);
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:8:12: undefined variable \${{ gpu }} in 'resources.gpu' of workflow 'train': ` +
        `define it in .dstack/variables.yaml (under 'global:' or 'train:'), or pass --gpu VALUE`,
    );
    expect(e.field).toBe('resources.gpu');
    expect(e.location).toEqual({ file: FILE, line: 8, column: 12 });
  });

  it('names the command field of an undefined variable, at the workflow when it has no location', async () => {
    const config = project([workflow('train', 3, { commands: ['pip3 install x', 'python3 train.py ${{ epochs }}'] })]);
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:3: undefined variable \${{ epochs }} in 'commands.1' of workflow 'train': ` +
        `define it in .dstack/variables.yaml (under 'global:' or 'train:'), or pass --epochs VALUE`,
    );
  });

  it('suggests the variable an undefined ${{ epoch }} was meant to be', async () => {
    const config = project(
      [workflow('train', 3, { commands: ['python3 train.py --epochs ${{ epoch }}'] })],
      { lr: '0.1' },
      { train: { epochs: '3' } },
    );
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:3: undefined variable \${{ epoch }} in 'commands.0' of workflow 'train': ` +
        `define it in .dstack/variables.yaml (under 'global:' or 'train:'), or pass --epoch VALUE; ` +
        `did you mean 'epochs'?`,
    );
  });

  // A bug once: the error advised "--gpu VALUE" but --gpu was then refused as unknown.
  it('resolves ${{ gpu }} when the user follows the advice and passes --gpu', async () => {
    const config = project([workflow('train', 3, { resources: { gpu: { count: '${{ gpu }}' } } })]);
    const p = await plan(config, { target: 'train', overrides: { gpu: '1' } }, builtin);
    expect(job(p, 'train').resources.gpu).toBe(1);
  });

  it('rejects a depends-on target that is not defined, at its item', async () => {
    const config = project([
      workflow('train', 3, {
        dependsOn: [{ workflow: 'prepare' }],
        locations: { 'depends-on.0': { file: FILE, line: 9, column: 9 } },
      }),
    ]);
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(`${FILE}:9:9: workflow 'train' depends on 'prepare', which is not defined`);
    expect(e.field).toBe('depends-on');
  });

  it('suggests the workflow a depends-on typo was meant to be', async () => {
    const config = project([
      workflow('b', 2),
      workflow('x', 5, {
        dependsOn: [{ workflow: 'bb' }],
        locations: { 'depends-on.0': { file: FILE, line: 7, column: 9 } },
      }),
    ]);
    const e = await rejection(plan(config, { target: 'x', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(`${FILE}:7:9: workflow 'x' depends on 'bb', which is not defined; did you mean 'b'?`);
  });

  it('turns a tag-only dependency into {tag}: every job of the tagged run', async () => {
    const config = project([
      workflow('train', 3, { dependsOn: [{ tag: 'mnist_data' }, { workflow: 'prep', tag: 'v1' }] }),
    ]);
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(job(p, 'train').dependsOn).toEqual([{ tag: 'mnist_data' }, { tag: 'v1', workflow: 'prep' }]);
  });

  it('does not require a tagged dependency to be defined in this config', async () => {
    const config = project([workflow('train', 3, { dependsOn: [{ workflow: 'gone', tag: 'v1' }] })]);
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(job(p, 'train').dependsOn).toEqual([{ tag: 'v1', workflow: 'gone' }]);
  });

  it('rejects a dependency cycle, naming its path', async () => {
    const config = project([
      workflow('a', 1, {
        dependsOn: [{ workflow: 'b' }],
        locations: { 'depends-on': { file: FILE, line: 4, column: 5 } },
      }),
      workflow('b', 6, { dependsOn: [{ workflow: 'a' }] }),
    ]);
    const e = await rejection(plan(config, { target: 'a', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(`${FILE}:4:5: dependency cycle: a -> b -> a`);
  });

  it('rejects a workflow that depends on itself', async () => {
    const config = project([workflow('a', 1, { dependsOn: [{ workflow: 'a' }] })]);
    const e = await rejection(plan(config, { target: 'a', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(`${FILE}:1: dependency cycle: a -> a`);
  });

  it('allows an absolute artifact path for a job that runs in a container', async () => {
    const config = project([workflow('setup-conda', 3, { artifacts: ['/opt/conda/envs/dl/', '/opt/./x/../y'] })]);
    const p = await plan(config, { target: 'setup-conda', overrides: {} }, builtin);
    expect(job(p, 'setup-conda').artifacts).toEqual(['/opt/conda/envs/dl', '/opt/y']);
  });

  it('refuses an absolute artifact path for a job on the host, saying why', async () => {
    const config = project([
      workflow('setup-conda', 3, {
        provider: 'bash',
        image: undefined,
        artifacts: ['data', '/opt/conda/envs/dl'],
        locations: { 'artifacts.1': { file: FILE, line: 7, column: 15 } },
      }),
    ]);
    const e = await rejection(plan(config, { target: 'setup-conda', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:7:15: artifact path '/opt/conda/envs/dl' of workflow 'setup-conda' is absolute, which only a job in ` +
        "a container (with an 'image') may use; this one runs on the runner's host (provider bash), where dstack " +
        "keeps nothing outside the job's workspace: use a path inside the project, or give the workflow an image",
    );
    expect(e.field).toBe('artifacts.1');
  });

  it('refuses an artifact that a variable makes absolute, for a job on the host', async () => {
    const config = project([workflow('train', 3, { provider: 'bash', image: undefined, artifacts: ['$out/ckpt'] })], {
      out: '/tmp',
    });
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toMatch(new RegExp(`^${FILE}:3: artifact path '/tmp/ckpt' of workflow 'train' is absolute, `));
  });

  it('refuses the root folder, and a path above it, as an artifact', async () => {
    const root = project([workflow('train', 3, { artifacts: ['/'] })]);
    const e = await rejection(plan(root, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:3: artifact path '/' of workflow 'train' is the root folder; name a folder or file inside it`,
    );
    const above = project([workflow('train', 3, { artifacts: ['/../etc'] })]);
    const e2 = await rejection(plan(above, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e2.message).toBe(`${FILE}:3: artifact path '/../etc' of workflow 'train' goes above the root folder`);
  });

  it('refuses a relative and an absolute artifact saved under one path, and takes them apart', async () => {
    for (const [relative, absolute] of [
      ['ckpt', '/ckpt'],
      ['ckpt/best', '/ckpt'],
      ['ckpt', '/ckpt/best'],
    ] as const) {
      const config = project([workflow('train', 3, { artifacts: [relative, absolute] })]);
      const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
      expect(e.message).toBe(
        `${FILE}:3: artifacts '${relative}' and '${absolute}' of workflow 'train' are both saved as ` +
          `'${absolute.slice(1)}' (an absolute path without its '/'): their files would replace each other's; rename one`,
      );
      expect(e.field).toBe('artifacts.1');
    }
    const apart = project([workflow('train', 3, { artifacts: ['ckpt', '/ckpts', 'out', 'out/sub'] })]);
    expect((await plan(apart, { target: 'train', overrides: {} }, builtin)).jobs[0]!.artifacts).toEqual([
      'ckpt',
      '/ckpts',
      'out',
      'out/sub',
    ]);
  });

  it('names the target when a workflow it depends on cannot be planned', async () => {
    const config = project([
      workflow('setup', 1, { provider: 'bash', image: undefined, artifacts: ['/opt/env'] }),
      workflow('train', 5, { dependsOn: [{ workflow: 'setup' }] }),
    ]);
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toMatch(
      /^\.dstack\/workflows\.yaml:1: artifact path '\/opt\/env' of workflow 'setup' is absolute/,
    );
    expect(e.message).toMatch(/ \(planning 'train', which depends on it\)$/);
    expect(e.location).toEqual({ file: FILE, line: 1 });
  });

  it('rejects the project folder itself as an artifact', async () => {
    const config = project([workflow('train', 3, { artifacts: ['.'] })]);
    const e = await rejection(plan(config, { target: 'train', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:3: artifact path '.' of workflow 'train' is the project folder itself; name a folder or file inside it`,
    );
  });

  it('refuses an input glob that leaves the project or is absolute, at its line, as an artifact path is', async () => {
    const inputs = (glob: string) =>
      project([
        workflow('w', 1, { inputs: ['src/**', glob], locations: { 'inputs.1': { file: FILE, line: 5, column: 9 } } }),
      ]);
    for (const glob of ['../x', 'a/../../x', '..', '!../x']) {
      const e = await rejection(plan(inputs(glob), { target: 'w', overrides: {} }, builtin), ConfigError);
      expect(e.message).toBe(`${FILE}:5:9: input '${glob}' of workflow 'w' leaves the project folder`);
      expect(e.field).toBe('inputs.1');
    }
    for (const glob of ['/etc/*', '!/etc/*']) {
      const e = await rejection(plan(inputs(glob), { target: 'w', overrides: {} }, builtin), ConfigError);
      expect(e.message).toBe(
        `${FILE}:5:9: input '${glob}' of workflow 'w' is absolute: inputs are globs of the project's files, relative to its folder`,
      );
    }
    const p = await plan(inputs('a/../b/*.py'), { target: 'w', overrides: {} }, builtin);
    expect(p.jobs[0]!.inputs).toEqual(['src/**', 'a/../b/*.py']);
  });

  it('normalises artifact paths that stay inside', async () => {
    const config = project([workflow('train', 3, { artifacts: ['./checkpoint/', 'a/../samples', 'out//logs'] })]);
    const p = await plan(config, { target: 'train', overrides: {} }, builtin);
    expect(job(p, 'train').artifacts).toEqual(['checkpoint', 'samples', 'out/logs']);
  });

  it('rejects a missing workflow name, listing the workflows', async () => {
    const e = await rejection(plan(gpt2(), { target: 'finetune', overrides: {} }, builtin), UsageError);
    expect(e.message).toBe(
      "no workflow named 'finetune' in .dstack/workflows.yaml (workflows: download-model, encode-dataset, finetune-model)",
    );
  });

  it('suggests the workflow a misspelt name is close to', async () => {
    const e = await rejection(plan(gpt2(), { target: 'finetune-modle', overrides: {} }, builtin), UsageError);
    expect(e.message).toBe(
      "no workflow named 'finetune-modle' in .dstack/workflows.yaml " +
        "(workflows: download-model, encode-dataset, finetune-model); did you mean 'finetune-model'?",
    );
  });

  it('says (none) when the project has no workflows', async () => {
    const e = await rejection(plan(project([]), { target: 'train', overrides: {} }, builtin), UsageError);
    expect(e.message).toBe("no workflow named 'train' in .dstack/workflows.yaml (workflows: (none))");
  });

  it('suggests the built-in provider a typo was meant to be', async () => {
    const config = project([
      workflow('w', 2, { provider: 'pyhton', locations: { provider: { file: FILE, line: 4, column: 15 } } }),
    ]);
    const e = await rejection(plan(config, { target: 'w', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(
      `${FILE}:4:15: workflow 'w' uses provider 'pyhton', which is not a built-in provider ` +
        "(built-in: bash, docker, python, curl); did you mean 'python'?",
    );
  });

  it('passes on the error of the provider', async () => {
    const config = project([workflow('w', 2, { provider: 'bash', commands: [] })]);
    const e = await rejection(plan(config, { target: 'w', overrides: {} }, builtin), ConfigError);
    expect(e.message).toBe(`${FILE}:2: workflow 'w' has no commands to run`);
  });
});

describe('plan: providers', () => {
  const registry = providerRegistry();
  const at = (line: number, column: number) => ({ file: FILE, line, column });
  const definition = { name: 'hello', image: 'python:3.9', commands: ['python3 main.py'], location: at(2, 5) };

  // Custom providers (programs, modules, other repositories) plan from a project on disk: test/providers/.
  it("refuses provider 'code', saying what it was", async () => {
    const config = project([workflow('ide', 1, { provider: 'code', image: undefined, commands: [] })]);
    const e = await rejection(plan(config, { target: 'ide', overrides: {} }, registry), ConfigError);
    expect(e.message).toBe(
      `${FILE}:1: workflow 'ide' uses provider 'code' (VS Code in the browser, an interactive application of later ` +
        'dstack versions), which dstack does not support: it runs jobs that finish',
    );
  });

  it('refuses a provider that is neither built in nor defined', async () => {
    const config = project([workflow('w', 1, { provider: 'nope', locations: { provider: at(3, 15) } })]);
    const e = await rejection(plan(config, { target: 'w', overrides: {} }, providerRegistry({ config })), ConfigError);
    expect(e.message).toBe(
      `${FILE}:3:15: workflow 'w' uses provider 'nope', which is neither a built-in provider (bash, docker, python, ` +
        'curl) nor defined in .dstack/providers.yaml or .dstack/providers/nope.mjs',
    );
  });

  it('runs a built-in provider that providers.yaml also defines, with a warning', async () => {
    const config = project([
      workflow('hello', 1, { provider: 'python', image: undefined, commands: [], params: { file: 'main.py' } }),
    ]);
    config.providers = [
      { ...definition, name: 'python', location: { file: '.dstack/providers.yaml', line: 2, column: 5 } },
    ];
    const p = await plan(config, { target: 'hello', overrides: {} }, registry);
    expect(p.jobs.map((j) => j.provider)).toEqual(['python']);
    expect(p.warnings).toEqual([
      `${FILE}:1: workflow 'hello' uses the built-in 'python' provider; the 'python' that .dstack/providers.yaml:2:5 defines is not used`,
    ]);
  });

  it('warns about each parameter the provider ignores, at that parameter', async () => {
    const config = project([
      workflow('download', 1, {
        provider: 'bash',
        image: undefined,
        params: { python: '3.10', requirements: 'requirements.txt' },
        locations: { python: at(4, 13), requirements: at(5, 19) },
      }),
      workflow('train', 8, {
        provider: 'bash',
        image: undefined,
        commands: ['pip install -r requirements.txt', 'python train.py'],
        params: { requirements: 'requirements.txt' },
        dependsOn: [{ workflow: 'download' }],
      }),
    ]);
    const p = await plan(config, { target: 'train', overrides: {} }, registry);
    expect(p.warnings).toEqual([
      `${FILE}:4:13: 'python' of workflow 'download' is ignored: the bash provider runs its commands with the Python ` +
        "on the runner's host; to choose the version, run them in an image (image: python:3.10)",
      `${FILE}:5:19: 'requirements' of workflow 'download' is ignored: the bash provider installs nothing by itself; ` +
        "add 'pip install -r requirements.txt' to its commands",
    ]);
  });

  it("warns that a python workflow's version goes unused when it names an image, whose Python it runs", async () => {
    const config = project([
      workflow('t', 1, {
        provider: 'python',
        image: 'python:3.11',
        commands: [],
        params: { python_script: 't.py', python: '3.9' },
        locations: { python: at(4, 13) },
      }),
    ]);
    const p = await plan(config, { target: 't', overrides: {} }, registry);
    expect(p.warnings).toEqual([
      `${FILE}:4:13: 'python' of workflow 't' is ignored: the job runs in its image python:3.11, with that image's ` +
        "Python (for Python 3.9, set 'image: python:3.9'; or leave out 'image' to use the runner's python3.9, " +
        'or the python:3.9 image on a runner with DSTACK_PYTHON_RUNTIME=docker)',
    ]);
  });

  it('refuses a Python version that is no version, and two spellings of the script', async () => {
    const bad = project([workflow('t', 1, { provider: 'python', params: { script: 't.py', version: 'latest' } })]);
    const e = await rejection(plan(bad, { target: 't', overrides: {} }, registry), ConfigError);
    expect(e.message).toBe(
      `${FILE}:1: invalid Python version 'latest' in 'version' of workflow 't': expected a version such as 3.8 or 3.10`,
    );
    const both = project([workflow('t', 1, { provider: 'python', params: { script: 't.py', file: 'u.py' } })]);
    const e2 = await rejection(plan(both, { target: 't', overrides: {} }, registry), ConfigError);
    expect(e2.message).toBe(
      `${FILE}:1: workflow 't' has both 'script' and 'file': they are the same parameter, keep one`,
    );
  });

  it('keeps interruptible with the resources, where the cache key does not see it', async () => {
    const config = project([workflow('t', 1, { resources: { interruptible: 'true', gpu: { count: '1' } } })]);
    const p = await plan(config, { target: 't', overrides: {} }, registry);
    expect(job(p, 't').resources).toEqual({ cpu: 1, memory: 0, gpu: 1, interruptible: true });
  });
});

describe('plan: large graphs', () => {
  const N = 10_000;
  const bash = (name: string, dependsOn: WorkflowConfig['dependsOn']) =>
    workflow(name, 1, {
      provider: 'bash',
      image: undefined,
      commands: [`python step.py --step ${name} --lr $lr`],
      artifacts: [`out/${name}`],
      dependsOn,
    });

  it('plans a 10,000-job chain, dependencies first', async () => {
    const workflows = Array.from({ length: N }, (_, i) => bash(`s${i}`, i === 0 ? [] : [{ workflow: `s${i - 1}` }]));
    const p = await plan(project(workflows, { lr: '0.1' }), { target: `s${N - 1}`, overrides: { lr: '0.2' } }, builtin);
    expect(p.jobs).toHaveLength(N);
    expect(p.jobs[0]!.ref).toBe('s0');
    expect(p.jobs[N - 1]!.dependsOn).toEqual([{ ref: `s${N - 2}` }]);
    expect(p.jobs[N - 1]!.commands).toEqual([`python step.py --step s${N - 1} --lr 0.2`]);
  });

  it('plans a 10,000-job fan-out and fan-in', async () => {
    const leaves = Array.from({ length: N - 2 }, (_, i) => bash(`leaf${i}`, [{ workflow: 'root' }]));
    const workflows = [
      bash('root', []),
      ...leaves,
      bash(
        'join',
        leaves.map((l) => ({ workflow: l.name })),
      ),
    ];
    const p = await plan(project(workflows, { lr: '0.1' }), { target: 'join', overrides: {} }, builtin);
    expect(p.jobs).toHaveLength(N);
    expect(p.jobs[0]!.ref).toBe('root');
    expect(p.jobs[N - 1]!.dependsOn).toHaveLength(N - 2);
  });
});
