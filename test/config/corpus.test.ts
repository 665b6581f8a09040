/**
 * Real users' configs of 2021-2022 (fixtures/corpus, copied verbatim with their odd
 * indentation, trailing spaces and missing final newlines): dstack takes them as they are.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadProject, parseVariables } from '../../src/config/index.js';
import { readFileSync } from 'node:fs';

const CORPUS = fileURLToPath(new URL('./fixtures/corpus/', import.meta.url));
const projects = readdirSync(CORPUS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const load = (name: string) => loadProject(join(CORPUS, name));
const read = (path: string) => readFileSync(join(CORPUS, path), 'utf8');

describe('corpus', () => {
  const withWorkflows = projects.filter((p) => p !== 'darpanaswal__Multi-GPU-Training-with-PyTorch-Lightning');

  it.each(withWorkflows)('loads %s', async (name) => {
    const project = await load(name);
    expect(project.workflows.length).toBeGreaterThan(0);
  });

  it('loads the variables-only project’s variables.yaml', () => {
    const text = readFileSync(
      join(CORPUS, 'darpanaswal__Multi-GPU-Training-with-PyTorch-Lightning/.dstack/variables.yaml'),
      'utf8',
    );
    expect(parseVariables(text).perWorkflow['train-mnist']).toMatchObject({ lr: '1.0', batch_size: '64' });
  });

  it("reads dstack-examples: 'python: 3.10', env list, tag-only deps, a stale variables section", async () => {
    const project = await load('dstackai__dstack-examples');
    const [download, train] = project.workflows;
    expect(download).toMatchObject({
      provider: 'bash',
      params: { python: '3.10' },
      environment: { PYTHONPATH: 'mnist' },
    });
    expect(train!.dependsOn).toEqual([{ tag: 'mnist_data' }]);
    expect(project.warnings).toEqual([
      ".dstack/variables.yaml:2:3: variables.yaml section 'train-mnist' names no workflow " +
        '(its variables apply to no run; workflows: download, train)',
    ]);
  });

  it('reads recohut: 2e-5 stays 2e-5, tag dependencies', async () => {
    const project = await load('recohut__dstack-examples');
    expect(project.variables.perWorkflow['finetune-gluemrpc']!['learning-rate']).toBe('2e-5');
    expect(project.workflows[3]!.dependsOn).toEqual([{ workflow: 'download-gluemrpc', tag: 'v0.0.2' }]);
    expect(project.workflows[3]!.resources.gpu).toEqual({ count: '${{ fgpu }}' });
  });

  it("reads pragasv: '- name : x', trailing spaces, 'gpu: 0 '", async () => {
    const project = await load('pragasv__dstack_example');
    expect(project.workflows.map((w) => w.name)).toEqual(['download-minst', 'train-mnist']);
    expect(project.variables.perWorkflow['train-mnist']!['gpu']).toBe('0');
  });

  it('reads armored-guitar: an empty-string variable and a tag dep on an undefined workflow', async () => {
    const project = await load('armored-guitar__dewarp_master_abby');
    expect(project.variables.perWorkflow['train']).toEqual({ config: 'configs/segformer.yaml', overrides: '' });
    expect(project.workflows[0]).toMatchObject({
      provider: 'docker',
      dependsOn: [{ workflow: 'upload', tag: 'latest' }],
    });
  });

  it('reads manojkrishnan2490: depends-on as {repo.include, workflows}', async () => {
    const [download, encode] = (await load('manojkrishnan2490__gpt-2')).workflows;
    expect(download!.dependsOn).toEqual([]);
    expect(download!.inputs).toEqual(['requirements.txt', 'download_model.py']);
    expect(encode!.dependsOn).toEqual([{ workflow: 'download-model' }]);
  });

  it('reads mmahesh: 1-space indented variables', async () => {
    const project = await load('mmahesh__dstack_multiple_gpu');
    expect(project.variables.perWorkflow['train-mnist']).toEqual({
      gpu: '8',
      precision: '16',
      limit_train_batches: '0.5',
    });
  });

  it('reads each providers.yaml: the custom providers and where they are', async () => {
    const hello = await load('peterschmidt85__simple-distributed-dstack-provider');
    expect(hello.providers).toEqual([
      {
        name: 'hello',
        image: 'python:3.9',
        commands: ['pip3 install dstack', 'python3 main.py'],
        location: { file: '.dstack/providers.yaml', line: 2, column: 5 },
      },
    ]);
    expect((await load('dstackai__dstack')).providers!.map((p) => p.name)).toEqual(['python', 'curl']);
    expect((await load('ivan-bokov__dstack-test-providers')).providers!.map((p) => p.name)).toEqual(['docker-ports']);
    expect((await load('rajeshai__dstack')).providers).toBeUndefined();
  });

  it('reads ivan-bokov: a provider from another repository, ports and nodes with warnings', async () => {
    const project = await load('ivan-bokov__dstack-test-providers');
    expect(project.workflows[0]).toMatchObject({
      provider: 'pytorch-ddp',
      providerRepo: 'https://github.com/ivan-bokov/dstack-test-providers',
      params: { script: 'example.py', requirements: 'requirements.txt' },
    });
    expect(project.warnings).toEqual([
      ".dstack/workflows.yaml:10:14: 'resources.nodes' of workflow 'hello' is ignored: dstack runs each job on one " +
        'machine (a provider that spreads work over machines makes one job per machine)',
      ".dstack/workflows.yaml:8:5: 'ports' of workflow 'hello' is ignored: dstack opens no ports for a job",
    ]);
  });

  // A formatter once rewrote these copies, and the quirks they exist to test were gone.
  it('keeps the files as their users wrote them, quirks included', () => {
    expect(read('pragasv__dstack_example/.dstack/workflows.yaml')).toContain('  - name : download-minst\n');
    expect(read('pragasv__dstack_example/.dstack/variables.yaml')).toContain('    gpu: 0 \n');
    expect(read('mmahesh__dstack_multiple_gpu/.dstack/variables.yaml')).toContain(
      'variables:\n train-mnist:\n   gpu: 8',
    );
    expect(read('Vrv18__dstack-tests/.dstack/workflows.yaml')).toContain('\n        - name: ide\n');
    expect(read('eafpres__dstack/.dstack/workflows.yaml')).toContain('    artifacts: \n');
    expect(read('dstackai__dstack/.dstack/workflows.yaml')).toContain('artifacts: [ "output" ]');
    expect(read('alex-snd__TRecover/.dstack/workflows.yaml').endsWith('count: 1')).toBe(true);
    const providers = projects.filter((p) => existsSync(join(CORPUS, p, '.dstack', 'providers.yaml')));
    expect(providers).toHaveLength(5);
  });
});
