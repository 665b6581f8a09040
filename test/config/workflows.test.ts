import { describe, expect, it } from 'vitest';
import { parseWorkflows } from '../../src/config/index.js';
import { configError, yaml } from './helpers.js';

const GPT2 = `workflows:
  - name: download-model
    image: tensorflow/tensorflow:1.15.0-py3
    commands:
      - pip3 install -r requirements.txt
      - python3 download_model.py $model
    artifacts:
      - models
  
  - name: encode-dataset
    image: tensorflow/tensorflow:1.15.0-py3
    commands:
      - curl -O https://github.com/karpathy/char-rnn/blob/master/data/tinyshakespeare/input.txt
      - pip3 install -r requirements.txt
      - mkdir -p datasets
      - PYTHONPATH=src ./encode.py --model_name $model input.txt datasets/input.npy
    artifacts:
      - datasets
    depends-on:
      - download-model
  
  - name: finetune-model
    image: tensorflow/tensorflow:1.15.0-py3
    commands:
      - pip3 install -r requirements.txt
      - PYTHONPATH=src python3 train.py --run_name $run_name --model_name $model --dataset datasets/input.npy $variables_as_args
    artifacts:
      - checkpoint
      - samples
    depends-on:
      - download-model
      - encode-dataset
`;

const PYTHON = `workflows:
  - name: download-model  
    provider: python
    requirements: requirements.txt
    python_script: download_model.py
    environment:
      PYTHONPATH: src
    artifacts:
      - models
    resources:
      cpu: 2
      memory: 32GB
      gpu: 1
`;

const file = '.dstack/workflows.yaml';

describe('parseWorkflows', () => {
  it('reads the reference GPT-2 example: image + commands make docker workflows, depends-on names', () => {
    const { workflows, warnings } = parseWorkflows(GPT2);
    expect(warnings).toEqual([]);
    expect(workflows.map((w) => w.name)).toEqual(['download-model', 'encode-dataset', 'finetune-model']);
    const [download, encode, finetune] = workflows;
    expect(download).toMatchObject({
      provider: 'docker',
      image: 'tensorflow/tensorflow:1.15.0-py3',
      commands: ['pip3 install -r requirements.txt', 'python3 download_model.py $model'],
      artifacts: ['models'],
      dependsOn: [],
      resources: {},
      environment: {},
      params: {},
    });
    expect(download!.inputs).toBeUndefined();
    expect(encode!.dependsOn).toEqual([{ workflow: 'download-model' }]);
    expect(encode!.commands).toHaveLength(4);
    expect(finetune!.dependsOn).toEqual([{ workflow: 'download-model' }, { workflow: 'encode-dataset' }]);
    expect(finetune!.artifacts).toEqual(['checkpoint', 'samples']);
    expect(finetune!.commands[1]).toContain('$variables_as_args');
  });

  it('records where each field of the GPT-2 example was written', () => {
    const [download, encode, finetune] = parseWorkflows(GPT2).workflows;
    expect(download!.location).toEqual({ file, line: 2, column: 5 });
    expect(download!.locations['image']).toEqual({ file, line: 3, column: 12 });
    expect(download!.locations['commands']).toEqual({ file, line: 4, column: 5 });
    expect(download!.locations['commands.1']).toEqual({ file, line: 6, column: 9 });
    expect(download!.locations['artifacts.0']).toEqual({ file, line: 8, column: 9 });
    expect(encode!.locations['depends-on']).toEqual({ file, line: 19, column: 5 });
    expect(encode!.locations['depends-on.0']).toEqual({ file, line: 20, column: 9 });
    expect(finetune!.location).toEqual({ file, line: 22, column: 5 });
    expect(finetune!.locations['depends-on.1']).toEqual({ file, line: 32, column: 9 });
  });

  it('reads the python provider example: parameters in params, resources as text', () => {
    const [wf] = parseWorkflows(PYTHON).workflows;
    expect(wf).toMatchObject({
      name: 'download-model',
      provider: 'python',
      commands: [],
      environment: { PYTHONPATH: 'src' },
      artifacts: ['models'],
      resources: { cpu: '2', memory: '32GB', gpu: { count: '1' } },
      params: { requirements: 'requirements.txt', python_script: 'download_model.py' },
    });
    expect(wf!.image).toBeUndefined();
    expect(wf!.locations['python_script']).toEqual({ file, line: 5, column: 20 });
    expect(wf!.locations['environment.PYTHONPATH']).toEqual({ file, line: 7, column: 19 });
    expect(wf!.locations['resources.cpu']).toEqual({ file, line: 11, column: 12 });
    expect(wf!.locations['resources.memory']).toEqual({ file, line: 12, column: 15 });
    expect(wf!.locations['resources.gpu']).toEqual({ file, line: 13, column: 12 });
  });

  it('keeps a ${{ }} resource as written, for the planner to substitute', () => {
    const text = yaml(
      'workflows:',
      '  - name: prepare',
      '    provider: python',
      '    python_script: prepare.py',
      '    resources:',
      '      gpu: ${{ pgpu }}',
    );
    const [wf] = parseWorkflows(text).workflows;
    expect(wf!.resources).toEqual({ gpu: { count: '${{ pgpu }}' } });
  });

  it("reads 'python: 3.10' as the text 3.10, not the number 3.1", () => {
    const text = yaml(
      'workflows:',
      '  - name: a',
      '    provider: bash',
      '    python: 3.10',
      '    version: 2e-5',
      '    commands: [1, true, 0.0]',
    );
    const [wf] = parseWorkflows(text).workflows;
    expect(wf!.params).toEqual({ python: '3.10', version: '2e-5' });
    expect(wf!.commands).toEqual(['1', 'true', '0.0']);
  });

  it('reads a gpu mapping, shm_size and interruptible', () => {
    const text = yaml(
      'workflows:',
      '  - name: train',
      '    provider: bash',
      '    commands: [python train.py]',
      '    resources:',
      "      shm_size: '16GB'",
      '      interruptible: true',
      '      gpu:',
      "        name: 'V100'",
      "        memory: '16GB'",
      '        count: 1',
    );
    const [wf] = parseWorkflows(text).workflows;
    expect(wf!.resources).toEqual({
      shmSize: '16GB',
      interruptible: 'true',
      gpu: { name: 'V100', memory: '16GB', count: '1' },
    });
    // The planner reports a bad count at resources.gpu: it points at the count.
    expect(wf!.locations['resources.gpu']).toEqual({ file, line: 11, column: 16 });
    expect(wf!.locations['resources.gpu.name']).toEqual({ file, line: 9, column: 15 });
    expect(wf!.locations['resources.shm_size']).toEqual({ file, line: 6, column: 17 });
  });

  it('reads tag dependencies in every spelling', () => {
    const text = yaml(
      'workflows:',
      '  - name: a',
      '    provider: bash',
      '    commands: [x]',
      '    depends-on:',
      '      - prepare:latest',
      '      - download-data: train_val_test',
      '      - workflow: setup',
      '      - tag: just_testing',
      '      - :mnist_data',
      '      - {workflow: b, tag: v1}',
    );
    const [wf] = parseWorkflows(text).workflows;
    expect(wf!.dependsOn).toEqual([
      { workflow: 'prepare', tag: 'latest' },
      { workflow: 'download-data', tag: 'train_val_test' },
      { workflow: 'setup' },
      { tag: 'just_testing' },
      { tag: 'mnist_data' },
      { workflow: 'b', tag: 'v1' },
    ]);
    expect(wf!.locations['depends-on.5']).toEqual({ file, line: 11, column: 9 });
  });
});

describe('parseWorkflows provider defaults', () => {
  const one = (...lines: string[]) => parseWorkflows(yaml('workflows:', '  - name: a', ...lines)).workflows[0]!;

  it('makes image + commands a docker workflow', () => {
    expect(one('    image: ubuntu', '    commands: [ls]').provider).toBe('docker');
  });

  it('makes an image alone a docker workflow', () => {
    expect(one('    image: ubuntu').provider).toBe('docker');
  });

  it('makes commands alone a bash workflow', () => {
    expect(one('    commands: [ls]').provider).toBe('bash');
  });

  it('runs provider bash with an image as docker', () => {
    expect(one('    provider: bash', '    image: ubuntu', '    commands: [ls]').provider).toBe('docker');
  });

  it('keeps a custom provider name as written', () => {
    expect(one('    provider: hello').provider).toBe('hello');
  });

  it("splits a pinned 'python==3.8' into the provider and its version", () => {
    const wf = one('    provider: python==3.8', '    script: app.py');
    expect(wf.provider).toBe('python');
    expect(wf.params).toEqual({ script: 'app.py', version: '3.8' });
    expect(wf.locations['version']).toEqual({ file, line: 3, column: 15 });
  });

  it('takes a provider from another repository by its name and keeps the repository beside it', () => {
    const wf = one('    provider:', '      repo: https://github.com/x/y', '      name: pytorch-ddp');
    expect(wf.provider).toBe('pytorch-ddp');
    expect(wf.providerRepo).toBe('https://github.com/x/y');
    expect(wf.params).toEqual({});
    expect(wf.locations['provider']).toEqual({ file, line: 5, column: 13 });
  });
});

describe('parseWorkflows later spellings', () => {
  const one = (...lines: string[]) =>
    parseWorkflows(yaml('workflows:', '  - name: a', '    provider: bash', '    commands: [x]', ...lines));

  it("reads 'env:' as a NAME=value list into environment", () => {
    const [wf] = one('    env:', '      - PYTHONPATH=mnist', '      - EMPTY=', '      - EQ=a=b').workflows;
    expect(wf!.environment).toEqual({ PYTHONPATH: 'mnist', EMPTY: '', EQ: 'a=b' });
    expect(wf!.locations['environment.PYTHONPATH']).toEqual({ file, line: 6, column: 9 });
  });

  it("reads '- path:' artifacts next to plain ones", () => {
    const [wf] = one('    artifacts:', '      - path: data', '      - logs').workflows;
    expect(wf!.artifacts).toEqual(['data', 'logs']);
    expect(wf!.locations['artifacts.0']).toEqual({ file, line: 6, column: 15 });
  });

  it('reads a flow list of quoted artifacts', () => {
    const [wf] = one('    artifacts: [ "output" ]').workflows;
    expect(wf!.artifacts).toEqual(['output']);
    expect(wf!.locations['artifacts.0']).toEqual({ file, line: 5, column: 18 });
  });

  it("reads 'deps:' like depends-on", () => {
    const [wf] = one('    deps:', '      - workflow: setup').workflows;
    expect(wf!.dependsOn).toEqual([{ workflow: 'setup' }]);
    expect(wf!.locations['depends-on']).toEqual({ file, line: 5, column: 5 });
    expect(wf!.locations['depends-on.0']).toEqual({ file, line: 6, column: 9 });
  });

  it("reads depends-on 'repo.include' globs as inputs", () => {
    const text = yaml(
      'workflows:',
      '  - name: a',
      '    image: tf',
      '    inputs: [setup.py]',
      '    depends-on:',
      '      repo:',
      '        include: [encode.py]',
      '      workflows: [b]',
      '  - name: b',
      '    image: tf',
    );
    const [wf] = parseWorkflows(text).workflows;
    expect(wf!.inputs).toEqual(['setup.py', 'encode.py']);
    expect(wf!.dependsOn).toEqual([{ workflow: 'b' }]);
    expect(wf!.locations['inputs.1']).toEqual({ file, line: 7, column: 19 });
    expect(wf!.locations['depends-on.0']).toEqual({ file, line: 8, column: 19 });
  });

  // Their files are those whose change should start a run, not all the job reads: as inputs
  // they would make dstack reuse a result after a change to a file they leave out.
  it("warns that 'triggers' are ignored and does not narrow the cache to their files", () => {
    const { workflows, warnings } = one('    triggers:', '      - repo:', '          include: [requirements.txt]');
    expect(workflows[0]!.inputs).toBeUndefined();
    expect(warnings).toEqual([
      ".dstack/workflows.yaml:5:5: 'triggers' of workflow 'a' is ignored: dstack starts a run only when you type " +
        "'dstack run', never on a change to the repository (to choose which files count for the cache, use 'inputs:')",
    ]);
  });

  it("warns the same of 'triggers' in any other shape (a CI's list of events)", () => {
    const { warnings } = one('    triggers: [push, pull_request]');
    expect(warnings).toEqual([
      ".dstack/workflows.yaml:5:5: 'triggers' of workflow 'a' is ignored: dstack starts a run only when you type " +
        "'dstack run', never on a change to the repository (to choose which files count for the cache, use 'inputs:')",
    ]);
  });

  it('warns that resources.nodes is ignored, naming where it is', () => {
    const { warnings } = one('    resources:', '      nodes: 3');
    expect(warnings).toEqual([
      ".dstack/workflows.yaml:6:14: 'resources.nodes' of workflow 'a' is ignored: dstack runs each job on one machine " +
        '(a provider that spreads work over machines makes one job per machine)',
    ]);
  });

  it("warns that 'ports' are ignored and passes them to no provider", () => {
    const { workflows, warnings } = one('    ports: [29500, 8080]');
    expect(workflows[0]!.params).toEqual({});
    expect(warnings).toEqual([
      ".dstack/workflows.yaml:5:5: 'ports' of workflow 'a' is ignored: dstack opens no ports for a job",
    ]);
  });

  it("warns that an artifact's 'mount' is ignored and keeps the artifact", () => {
    const { workflows, warnings } = one('    artifacts:', '      - path: output', '        mount: true');
    expect(workflows[0]!.artifacts).toEqual(['output']);
    expect(warnings).toEqual([
      ".dstack/workflows.yaml:7:16: 'artifacts.0.mount' of workflow 'a' is ignored: dstack saves artifacts when the " +
        'job ends (and when it is stopped); it mounts no storage into the job',
    ]);
  });

  it("refuses a workflow's 'mount', saying what to do instead", () => {
    const e = configError(() => one('    mount:', '      - /data'));
    expect(e.message).toBe(
      ".dstack/workflows.yaml:5:5: 'mount' of workflow 'a' is not supported: dstack mounts no storage into a job; " +
        "to reuse files that another workflow made, list them in that workflow's 'artifacts' and add it to 'deps'",
    );
    expect(e.field).toBe('mount');
  });
});

describe('parseWorkflows odd formatting', () => {
  it("accepts '- name : x' with a space before the colon", () => {
    const [wf] = parseWorkflows(
      yaml('workflows:', '  - name : download-minst', '    provider: python', '    python_script: d.py'),
    ).workflows;
    expect(wf!.name).toBe('download-minst');
    expect(wf!.locations['name']).toEqual({ file, line: 2, column: 12 });
  });

  it('ignores trailing spaces after values and on blank lines', () => {
    const text = 'workflows:  \n  - name: a   \n    image: ubuntu  \n    \n    commands:\n      - ls -l   \n      \n';
    const [wf] = parseWorkflows(text).workflows;
    expect(wf).toMatchObject({ name: 'a', image: 'ubuntu', commands: ['ls -l'] });
  });

  it('accepts 1-space indentation', () => {
    const text = 'workflows:\n - name: a\n   image: ubuntu\n   commands:\n    - ls\n';
    expect(parseWorkflows(text).workflows[0]).toMatchObject({ name: 'a', commands: ['ls'] });
  });

  it('accepts a file without a final newline', () => {
    const text = 'workflows:\n  - name: a\n    image: ubuntu\n    resources:\n      gpu: ${{ gpu }}';
    const [wf] = parseWorkflows(text).workflows;
    expect(wf!.resources.gpu).toEqual({ count: '${{ gpu }}' });
    expect(wf!.locations['resources.gpu']).toEqual({ file, line: 5, column: 12 });
  });

  it("accepts an empty 'workflows:' as no workflows", () => {
    expect(parseWorkflows('workflows:\n').workflows).toEqual([]);
  });

  it('names the file it was given in locations', () => {
    const [wf] = parseWorkflows('workflows:\n  - name: a\n    image: x\n', 'other/w.yaml').workflows;
    expect(wf!.location).toEqual({ file: 'other/w.yaml', line: 2, column: 5 });
  });
});

describe('merge keys', () => {
  it("take a workflow's defaults from another (<<: *base), its own keys first, errors at the line of the value", () => {
    const text = yaml(
      'workflows:',
      '  - &base',
      '    name: prepare',
      '    image: python:3.11',
      '    resources: {cpu: 2, memory: 1GB}',
      '    commands: [python prepare.py]',
      '  - <<: *base',
      '    name: train',
      '    commands: [python train.py]',
    );
    const [prepare, train] = parseWorkflows(text).workflows;
    expect(train).toMatchObject({ name: 'train', image: 'python:3.11', commands: ['python train.py'] });
    expect(train!.resources).toEqual(prepare!.resources);
    // `unknown key '<<' in workflow 'train'` before.
    expect(
      configError(() => parseWorkflows(text.replace('    name: train', '    name: train\n    comands: []'))).message,
    ).toBe(".dstack/workflows.yaml:9:5: unknown key 'comands' in workflow 'train' (did you mean 'commands'?)");
  });
});
