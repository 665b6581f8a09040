/**
 * Real users' configs (test/config/fixtures/corpus: 24 projects of 2021-2022, kept byte for
 * byte): each project's `.dstack/` goes into a fresh git repository, and every workflow is
 * planned by the real CLI, `dstack run WF --dry-run`. Each either plans (its jobs, and every
 * field of the target job, are asserted) or is refused with the exact message below. A dry
 * run starts no server. docs/compatibility.md summarises this file; a test keeps the two equal.
 */
import { execFile } from 'node:child_process';
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/index.js';
import { REPO, Sandbox } from './harness.js';

const CORPUS = join(REPO, 'test', 'config', 'fixtures', 'corpus');
const ONLY_VARIABLES = 'darpanaswal__Multi-GPU-Training-with-PyTorch-Lightning';

/** Every field of the target job as the plan prints it; a list for a field of several lines. */
type Fields = Record<string, string | string[]>;
type Expectation = { jobs: string[]; target: Fields; warnings?: string[] } | { error: string };
interface ProjectExpectation {
  /** Warnings about the files themselves, printed whichever workflow runs. */
  warnings?: string[];
  workflows: Record<string, Expectation>;
}

const NONE = '(none)';
/**
 * Custom providers run when planned: the tests keep them from the network and from any Docker
 * engine of the machine, so that their errors are the same everywhere.
 */
const OFFLINE = { DOCKER_HOST: 'unix:///nonexistent/dstack-corpus/docker.sock', GIT_ALLOW_PROTOCOL: 'file' };
const GPT2 = 'tensorflow/tensorflow:1.15.0-py3';
const pythonOnHost = (line: string, wf: string, version: string) =>
  `.dstack/workflows.yaml:${line}: 'python' of workflow '${wf}' is ignored: the bash provider runs its commands ` +
  `with the Python on the runner's host; to choose the version, run them in an image (image: python:${version})`;
const hostArtifact = (path: string, target?: string) =>
  `.dstack/workflows.yaml:18:15: artifact path '${path}' of workflow 'setup-conda' is absolute, which only a job ` +
  "in a container (with an 'image') may use; this one runs on the runner's host (provider bash), where dstack " +
  "keeps nothing outside the job's workspace: use a path inside the project, or give the workflow an image" +
  (target ? ` (planning '${target}', which depends on it)` : '');
const triggers = (line: number, wf: string) =>
  `.dstack/workflows.yaml:${line}:5: 'triggers' of workflow '${wf}' is ignored: dstack starts a run only when you ` +
  "type 'dstack run', never on a change to the repository (to choose which files count for the cache, use 'inputs:')";
const MNIST_VARS = 'gpu=0 batch-size=64 test-batch-size=1000 epochs=1 lr=1.0 gamma=0.7 seed=1 log-interval=10';
const GPT2_FINETUNE_VARS =
  'model=124M models_dir=models combine=50000 encoding=utf-8 batch_size=1 learning_rate=0.00002 ' +
  'accumulate_gradients=1 twremat_memlimit=12GB optimizer=adam noise=0.0 top_k=40 top_p=0.0 restore_from=latest ' +
  'sample_every=100 sample_length=1023 sample_num=1 save_every=1000 val_batch_size=2 val_batch_count=40 val_every=0';

const EXPECTED: Record<string, ProjectExpectation> = {
  'OlegBEZb__Personalize-Expedia-Hotel-Searches': {
    workflows: {
      'download-data': {
        jobs: ['download-data'],
        target: {
          provider: 'python',
          python_script: 'dstack_download_data.py',
          requirements: 'requirements_download_data.txt',
          version: '3.8',
          resources: 'cpu 1',
          artifacts: 'data',
          variables: NONE,
        },
      },
      // No variables.yaml: `gpu: ${{ gpu }}` has no value (the tag dependency needs no workflow here).
      'train-catboost': {
        error:
          ".dstack/workflows.yaml:20:12: undefined variable ${{ gpu }} in 'resources.gpu' of workflow 'train-catboost': " +
          "define it in .dstack/variables.yaml (under 'global:' or 'train-catboost:'), or pass --gpu VALUE",
      },
    },
  },
  'Vrv18__dstack-tests': {
    workflows: {
      ide: {
        error:
          ".dstack/workflows.yaml:3:21: workflow 'ide' uses provider 'code' (VS Code in the browser, an interactive " +
          'application of later dstack versions), which dstack does not support: it runs jobs that finish',
      },
    },
  },
  'alex-snd__TRecover': {
    workflows: {
      train: {
        jobs: ['train'],
        target: {
          provider: 'bash',
          python: '3.8',
          commands: [
            'apt update && apt upgrade -y && apt install git -y',
            'git clone https://github.com/alex-snd/TRecover.git',
            'cd TRecover',
            'pip install ".[collab]"',
            'trecover init',
            'trecover download data',
            'trecover collab train --initial-peers /ip4/95.216.202.215/tcp/34234/p2p/QmS2mYPX8Q78RDQzxMf17phVYPashi4C6ixVbA3jrj9yxt ' +
              '--client-mode --batch-size 24  --experiment-prefix demo4 --train-dataset-size 1000000 --bandwidth 500 ' +
              '--backup-every-step 1 --no-args-sync',
          ],
          resources: 'cpu 1, gpu 1 (V100, 16GB), shm 16GB',
          variables: NONE,
        },
        warnings: [
          pythonOnHost('5:13', 'train', '3.8'),
          ".dstack/workflows.yaml:15:17: 'resources.shm_size' of workflow 'train' is ignored: it sizes a container's " +
            "/dev/shm, and the bash provider runs on the runner's host (give the workflow an image to run it in a container)",
        ],
      },
    },
  },
  'armored-guitar__dewarp_master_abby': {
    workflows: {
      // `upload:latest` names a tagged run: no workflow 'upload' need be defined; `overrides: ""` is empty.
      train: {
        jobs: ['train'],
        target: {
          provider: 'docker',
          image: 'armoredguitar/diplom:latest',
          commands: ['pip3 install -e ./transformers', 'python3 train_model.py configs/segformer.yaml '],
          resources: 'cpu 8, memory 60GB, gpu 1',
          artifacts: 'results_copy',
          'depends on': 'upload:latest (tag; resolved when the run is submitted)',
          variables: "config=configs/segformer.yaml overrides=''",
        },
      },
    },
  },
  'dstackai__dstack-examples': {
    warnings: [
      ".dstack/variables.yaml:2:3: variables.yaml section 'train-mnist' names no workflow " +
        '(its variables apply to no run; workflows: download, train)',
    ],
    workflows: {
      download: {
        jobs: ['download'],
        target: {
          provider: 'bash',
          python: '3.10',
          commands: ['pip install -r requirements.txt', 'python mnist/download.py'],
          resources: 'cpu 1',
          artifacts: 'data',
          environment: 'PYTHONPATH=mnist',
          variables: NONE,
        },
        warnings: [pythonOnHost('5:13', 'download', '3.10')],
      },
      // `requirements` draws no warning: the commands install them.
      train: {
        jobs: ['train'],
        target: {
          provider: 'bash',
          requirements: 'requirements.txt',
          commands: ['pip install -r requirements.txt', 'python mnist/train.py'],
          resources: 'cpu 1',
          artifacts: 'lightning_logs',
          'depends on': ':mnist_data (tag; every job of the tagged run; resolved when the run is submitted)',
          environment: 'PYTHONPATH=mnist',
          variables: NONE,
        },
      },
    },
  },
  dstackai__dstack: {
    workflows: {
      hello: {
        jobs: ['hello'],
        target: {
          provider: 'python',
          file: 'examples/hello/main.py',
          resources: 'cpu 1',
          artifacts: 'output',
          variables: NONE,
        },
        warnings: [
          ".dstack/workflows.yaml:4:15: workflow 'hello' uses the built-in 'python' provider; the 'python' that " +
            '.dstack/providers.yaml:2:5 defines is not used',
        ],
      },
    },
  },
  'dstackai__gpt-2': {
    warnings: [
      triggers(7, 'download_model'),
      triggers(21, 'encode_dataset'),
      ".dstack/variables.yaml:6:3: variables.yaml section 'finetune-model' names no workflow " +
        "(its variables apply to no run; did you mean 'finetune_model'?)",
    ],
    workflows: {
      download_model: {
        jobs: ['download_model'],
        target: {
          provider: 'docker',
          image: GPT2,
          commands: ['pip3 install -r requirements.txt', 'python3 download_model.py 124M'],
          resources: 'cpu 1',
          artifacts: 'models/124M',
          variables: 'model=124M models_dir=model',
        },
      },
      encode_dataset: {
        jobs: ['download_model', 'encode_dataset'],
        target: {
          provider: 'docker',
          image: GPT2,
          commands: [
            'curl -O https://github.com/karpathy/char-rnn/blob/master/data/tinyshakespeare/input.txt',
            'pip3 install -r requirements.txt',
            'PYTHONPATH=src ./encode.py --model_name 124M input.txt input.npz',
          ],
          resources: 'cpu 1',
          artifacts: 'input.npz',
          'depends on': 'download_model (job 1)',
          variables: 'model=124M models_dir=model',
        },
      },
      // `$config_args` is no dstack variable: it reaches the shell as written.
      finetune_model: {
        jobs: ['download_model', 'encode_dataset', 'finetune_model'],
        target: {
          provider: 'docker',
          image: GPT2,
          commands: [
            'pip3 install -r requirements.txt',
            'PYTHONPATH=src python3 train.py --model_name 124M $config_args',
          ],
          resources: 'cpu 1',
          artifacts: ['models/124M', 'checkpoint', 'samples'],
          'depends on': ['download_model (job 1)', 'encode_dataset (job 2)'],
          variables: 'model=124M models_dir=model',
        },
      },
    },
  },
  eafpres__dstack: {
    workflows: {
      read_data: {
        jobs: ['read_data'],
        target: {
          provider: 'bash',
          python: '3.8',
          commands: ['pip install requirements.txt', 'python code/read_data.py'],
          resources: 'cpu 1, gpu 1, interruptible',
          artifacts: 'checkpoint',
          'depends on': ':just_testing (tag; every job of the tagged run; resolved when the run is submitted)',
          variables: NONE,
        },
        warnings: [pythonOnHost('6:13', 'read_data', '3.8')],
      },
    },
  },
  'ivan-bokov__dstack-test-providers': {
    warnings: [
      ".dstack/workflows.yaml:10:14: 'resources.nodes' of workflow 'hello' is ignored: dstack runs each job on one " +
        'machine (a provider that spreads work over machines makes one job per machine)',
      ".dstack/workflows.yaml:8:5: 'ports' of workflow 'hello' is ignored: dstack opens no ports for a job",
    ],
    workflows: {
      hello: {
        error:
          // With the network, dstack clones the repository and runs its provider.
          ".dstack/workflows.yaml:5:13: workflow 'hello' uses provider 'pytorch-ddp' from another repository, which " +
          'dstack cannot get: cannot clone https://github.com/ivan-bokov/dstack-test-providers: ' +
          "fatal: transport 'https' not allowed",
      },
    },
  },
  'kengz__lean-dl-example': {
    workflows: {
      'setup-train': {
        jobs: ['setup-train'],
        target: {
          provider: 'bash',
          commands: ['conda env create --file environment.yml', 'conda activate dl', 'python dl/train.py'],
          resources: 'cpu 1',
          artifacts: 'lightning_logs',
          variables: NONE,
        },
      },
      // The conda env is kept as an artifact at /opt/conda/envs/dl: fine in a container, not on the host.
      'setup-conda': { error: hostArtifact('/opt/conda/envs/dl') },
      'test-conda': { error: hostArtifact('/opt/conda/envs/dl', 'test-conda') },
      download: { error: hostArtifact('/opt/conda/envs/dl', 'download') },
      train: { error: hostArtifact('/opt/conda/envs/dl', 'train') },
      tune: { error: hostArtifact('/opt/conda/envs/dl', 'tune') },
    },
  },
  'kengz__mnist-classifier': {
    workflows: {
      'setup-train': {
        jobs: ['setup-train'],
        target: {
          provider: 'bash',
          commands: [
            'conda env create --file environment.yml',
            'export PATH=/opt/conda/envs/mnist/bin:$PATH',
            'python mnist/train.py trainer.enable_progress_bar=false',
          ],
          resources: 'cpu 1',
          artifacts: 'lightning_logs',
          variables: NONE,
        },
      },
      'setup-conda': { error: hostArtifact('/opt/conda/envs/mnist') },
      'test-conda': { error: hostArtifact('/opt/conda/envs/mnist', 'test-conda') },
      download: { error: hostArtifact('/opt/conda/envs/mnist', 'download') },
      train: { error: hostArtifact('/opt/conda/envs/mnist', 'train') },
      'pip-download': {
        jobs: ['pip-download'],
        target: {
          provider: 'bash',
          commands: ['pip install -r requirements.txt', 'python -m mnist.prepare_data'],
          resources: 'cpu 1',
          artifacts: 'data',
          variables: NONE,
        },
      },
      'pip-train': {
        jobs: ['pip-download', 'pip-train'],
        target: {
          provider: 'bash',
          commands: ['pip install -r requirements.txt', 'python -m mnist.train'],
          resources: 'cpu 1',
          artifacts: 'lightning_logs',
          'depends on': 'pip-download (job 1)',
          variables: NONE,
        },
      },
    },
  },
  'manojkrishnan2490__gpt-2': {
    workflows: {
      'download-model': {
        jobs: ['download-model'],
        target: {
          provider: 'docker',
          image: GPT2,
          commands: ['pip3 install -r requirements.txt', 'python3 download_model.py 124M'],
          resources: 'cpu 1',
          artifacts: 'models',
          inputs: 'requirements.txt, download_model.py',
          variables: 'model=124M models_dir=models',
        },
      },
      'encode-dataset': {
        jobs: ['download-model', 'encode-dataset'],
        target: {
          provider: 'docker',
          image: GPT2,
          commands: [
            'curl -O https://github.com/karpathy/char-rnn/blob/master/data/tinyshakespeare/input.txt',
            'pip3 install -r requirements.txt',
            'mkdir -p datasets',
            'PYTHONPATH=src ./encode.py --model 124M input.txt datasets/input.npy',
          ],
          resources: 'cpu 1',
          artifacts: 'datasets',
          inputs: 'requirements.txt, encode.py, src/load_dataset.py, src/encoder.py',
          'depends on': 'download-model (job 1)',
          variables: 'model=124M models_dir=models',
        },
      },
      'finetune-model': {
        jobs: ['download-model', 'encode-dataset', 'finetune-model'],
        target: {
          provider: 'docker',
          image: GPT2,
          commands: [
            'pip3 install -r requirements.txt',
            'PYTHONPATH=src python3 train.py --run_name $run_name --dataset datasets/input.npy ' +
              GPT2_FINETUNE_VARS.split(' ')
                .slice(2)
                .map((kv) => `--${kv.replace('=', ' ')}`)
                .join(' '),
          ],
          resources: 'cpu 1',
          artifacts: ['checkpoint', 'samples'],
          'depends on': ['download-model (job 1)', 'encode-dataset (job 2)'],
          variables: GPT2_FINETUNE_VARS,
        },
      },
    },
  },
  mmahesh__dstack_multiple_gpu: {
    workflows: {
      'train-mnist': {
        jobs: ['train-mnist'],
        target: {
          provider: 'python',
          python_script: 'train.py',
          requirements: 'requirements.txt',
          resources: 'cpu 1, gpu 8',
          artifacts: 'data',
          variables: 'gpu=8 precision=16 limit_train_batches=0.5',
        },
      },
    },
  },
  mmahesh__dstack_reproducible_pipeline: {
    workflows: {
      prepare: {
        jobs: ['prepare'],
        target: {
          provider: 'python',
          script: 'prepare.py',
          requirements: 'requirements.txt',
          resources: 'cpu 1',
          artifacts: 'data',
          variables: NONE,
        },
      },
      train: {
        jobs: ['prepare', 'train'],
        target: {
          provider: 'python',
          version: '3.9',
          requirements: 'requirements.txt',
          script: 'train.py',
          resources: 'cpu 1, gpu 4',
          artifacts: 'model',
          'depends on': 'prepare (job 1)',
          variables: NONE,
        },
      },
    },
  },
  'parmarjigar__dstack-examples': {
    workflows: {
      'download-mnist': {
        jobs: ['download-mnist'],
        target: {
          provider: 'python',
          requirements: 'requirements.txt',
          python_script: 'download.py',
          resources: 'cpu 1',
          artifacts: 'data',
          variables: NONE,
        },
      },
      'train-mnist': {
        jobs: ['train-mnist'],
        target: {
          provider: 'python',
          requirements: 'requirements.txt',
          python_script: 'train.py',
          resources: 'cpu 1',
          artifacts: 'model',
          'depends on': 'download-mnist:latest (tag; resolved when the run is submitted)',
          variables: `${MNIST_VARS} gpus=2`,
        },
      },
    },
  },
  'peterschmidt85__simple-distributed-dstack-provider': {
    workflows: {
      hello: {
        error:
          // With a Docker engine, dstack runs the provider in python:3.9 (pulled), which needs its main.py.
          ".dstack/workflows.yaml:3:15: provider 'hello' (.dstack/providers.yaml:2:5) of workflow 'hello' cannot " +
          'reach the Docker engine at /nonexistent/dstack-corpus/docker.sock (no such socket): start dockerd, or ' +
          'set DOCKER_HOST to its socket',
      },
    },
  },
  pragasv__dstack_example: {
    workflows: {
      'download-minst': {
        jobs: ['download-minst'],
        target: {
          provider: 'python',
          requirements: 'requirements.txt',
          python_script: 'download.py',
          resources: 'cpu 1',
          artifacts: 'data',
          variables: NONE,
        },
      },
      'train-mnist': {
        jobs: ['download-minst', 'train-mnist'],
        target: {
          provider: 'python',
          requirements: 'requirements.txt',
          python_script: 'train.py',
          resources: 'cpu 1',
          artifacts: 'model',
          'depends on': 'download-minst (job 1)',
          variables: MNIST_VARS,
        },
      },
    },
  },
  rajeshai__dstack: {
    workflows: {
      train: {
        jobs: ['train'],
        target: {
          provider: 'python',
          requirements: 'requirements.txt',
          script: 'app.py',
          resources: 'cpu 1',
          artifacts: 'models',
          environment: 'PYTHONPATH=src',
          variables: NONE,
        },
      },
    },
  },
  'rajeshai__dstack-gpu-1': {
    workflows: {
      train: {
        jobs: ['train'],
        target: {
          provider: 'python',
          requirements: 'requirements.txt',
          script: 'app.py',
          resources: 'cpu 1, gpu 1',
          artifacts: 'models',
          environment: 'PYTHONPATH=src',
          variables: 'pgpu=1',
        },
      },
    },
  },
  'rajeshai__dstack-pytorch': {
    workflows: {
      train: {
        jobs: ['train'],
        target: {
          provider: 'python',
          requirements: 'requirements.txt',
          python_script: 'app.py',
          resources: 'cpu 1, gpu 1',
          artifacts: 'model',
          variables: 'gpu=1',
        },
      },
    },
  },
  'rajeshai__ydata-dstack': {
    workflows: {
      // `provider: python==3.8` pins the version; providers.yaml's `curl` is not used by any workflow.
      train: {
        jobs: ['train'],
        target: {
          provider: 'python',
          requirements: 'requirements.txt',
          script: 'app.py',
          version: '3.8',
          resources: 'cpu 1, gpu 1',
          artifacts: ['folder', 'cache'],
          environment: 'PYTHONPATH=src',
          variables: 'tgpu=1',
        },
      },
    },
  },
  'recohut__dstack-examples': {
    workflows: {
      'download-mnist': {
        jobs: ['download-mnist'],
        target: {
          provider: 'python',
          requirements: 'src/mnist/requirements.txt',
          python_script: 'src/mnist/download.py',
          resources: 'cpu 1',
          artifacts: 'data',
          variables: NONE,
        },
      },
      'train-mnist': {
        jobs: ['train-mnist'],
        target: {
          provider: 'python',
          requirements: 'src/mnist/requirements.txt',
          python_script: 'src/mnist/train.py',
          resources: 'cpu 1',
          artifacts: 'model',
          'depends on': 'download-mnist:v1 (tag; resolved when the run is submitted)',
          variables: MNIST_VARS,
        },
      },
      'download-gluemrpc': {
        jobs: ['download-gluemrpc'],
        target: {
          provider: 'python',
          requirements: 'src/gluemrpc/requirements.txt',
          python_script: 'src/gluemrpc/download.py',
          resources: 'cpu 1',
          artifacts: 'data',
          variables: NONE,
        },
      },
      // `2e-5` stays as written (YAML 1.2 would read it as the number 0.00002).
      'finetune-gluemrpc': {
        jobs: ['finetune-gluemrpc'],
        target: {
          provider: 'python',
          requirements: 'src/gluemrpc/requirements.txt',
          python_script: 'src/gluemrpc/finetune.py',
          resources: 'cpu 1',
          artifacts: 'model',
          'depends on': 'download-gluemrpc:v0.0.2 (tag; resolved when the run is submitted)',
          variables: 'fgpu=0 learning-rate=2e-5 train-batch-size=8 eval-batch-size=32 num-epochs=2 fseed=1',
        },
      },
    },
  },
  'shamik13__dstack-trial': {
    workflows: {
      hello: {
        jobs: ['hello'],
        target: {
          provider: 'docker',
          image: 'tensorflow/tensorflow:latest-gpu',
          commands: 'python3 main.py',
          resources: 'cpu 1, memory 8GB, gpu 1',
          variables: NONE,
        },
      },
    },
  },
  smathews88__PyTorchLightning: {
    workflows: {
      'train-mnist': {
        jobs: ['train-mnist'],
        target: {
          provider: 'python',
          python_script: 'train.py',
          resources: 'cpu 1, gpu 1',
          artifacts: 'model',
          variables: MNIST_VARS.replace('gpu=0', 'gpu=1'),
        },
      },
    },
  },
};

interface PlannedJob {
  ref: string;
  fields: Record<string, string[]>;
}

/** The jobs of `dstack run --dry-run`'s output, each with its fields (a field's lines in order). */
function parsePlan(stdout: string): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  let last: string[] | undefined;
  for (const line of stdout.split('\n')) {
    const header = /^\d+\. (\S+)/.exec(line);
    if (header) {
      jobs.push({ ref: header[1]!, fields: {} });
      continue;
    }
    const job = jobs[jobs.length - 1];
    if (!job || !line.startsWith('   ')) continue;
    const label = line.slice(3, 18).trim();
    const value = line.slice(18);
    if (label === '') last?.push(value);
    else job.fields[label] = last = [value];
  }
  return jobs;
}

/** Compare a field as the expectation writes it: a list line by line, a string as the lines joined by spaces. */
function shown(fields: Record<string, string[]>, expected: Fields): Fields {
  return Object.fromEntries(
    Object.entries(fields).map(([k, lines]) => [k, Array.isArray(expected[k]) ? lines : lines.join(' ')]),
  );
}

/** Run `fn` in a fresh git repository holding the project's `.dstack/`, with its own DSTACK_HOME. */
async function inProject<T>(name: string, fn: (sandbox: Sandbox) => Promise<T>): Promise<T> {
  const sandbox = await Sandbox.create();
  try {
    await cp(join(CORPUS, name, '.dstack'), join(sandbox.root, '.dstack'), { recursive: true });
    await promisify(execFile)('git', ['init', '-q'], { cwd: sandbox.root });
    await writeNamedFiles(sandbox);
    return await fn(sandbox);
  } finally {
    // Nothing to stop: a dry run starts no server (each test checks it).
    await rm(dirname(sandbox.home), { recursive: true, force: true });
  }
}

/**
 * The files the project's workflows name, empty: python workflows' scripts and requirements
 * files, and the files of `inputs` (`depends-on: {repo: {include}}`). Each repository had its
 * own, and planning refuses one that is not in the project; the corpus keeps only `.dstack/`.
 */
async function writeNamedFiles(sandbox: Sandbox): Promise<void> {
  const config = await loadProject(sandbox.root).catch(() => undefined); // variables.yaml alone
  const files = (config?.workflows ?? []).flatMap((w) => {
    const named = w.provider === 'python' ? ['python_script', 'script', 'file', 'requirements'] : [];
    const params = named.map((key) => w.params[key]).filter((v): v is string => typeof v === 'string');
    return [...params.map((v) => v.trim().split(/\s+/)[0]!), ...(w.inputs ?? [])];
  });
  await sandbox.write(Object.fromEntries(files.filter((f) => !/[*?{[$]/.test(f)).map((f) => [f, ''])));
}

/** Every file called server.json under `dir` (none, when nothing started a server). */
async function serverFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.name === 'server.json').map((e) => join(e.parentPath, e.name));
}

/**
 * The config's warnings. Those of jobs this machine cannot fit (`job train would fail: this machine
 * does not have 1 GPU`) depend on the machine the test runs on, not the config: dry-run-fit.test.ts has them.
 */
const warningsOf = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('warning: ') && !/^warning: job \S+ would (fail|wait): /.test(l))
    .map((l) => l.slice('warning: '.length));

const cases = Object.entries(EXPECTED).flatMap(([name, p]) =>
  Object.entries(p.workflows).map(([wf, e]) => ({ name, wf, e })),
);
const planned = cases.filter((c) => 'jobs' in c.e).length;
const refused = cases.length - planned;

describe('the corpus of real configs', () => {
  it('has an expectation for every workflow of every project, and for nothing else', async () => {
    const folders = (await readdir(CORPUS, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(Object.keys(EXPECTED).sort()).toEqual(folders.filter((f) => f !== ONLY_VARIABLES).sort());
    for (const [name, p] of Object.entries(EXPECTED)) {
      const config = await loadProject(join(CORPUS, name));
      expect(Object.keys(p.workflows), name).toEqual(config.workflows.map((w) => w.name));
    }
  });

  it.concurrent.each(Object.keys(EXPECTED))('plans or refuses each workflow of %s, starting no server', (name) =>
    inProject(name, async (sandbox) => {
      const p = EXPECTED[name]!;
      await Promise.all(
        Object.entries(p.workflows).map(async ([wf, e]) => {
          const r = await sandbox.dstack(['run', wf, '--dry-run'], { env: OFFLINE });
          const context = `${name}: dstack run ${wf} --dry-run\n${r.stdout}${r.stderr}`;
          if ('error' in e) {
            const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
            expect(errors, context).toEqual([`error: ${e.error}`]);
            expect(warningsOf(r.stderr), context).toEqual(p.warnings ?? []);
            expect(r.code, context).toBe(2);
            expect(r.stdout, context).toBe('');
            return;
          }
          expect(r.code, context).toBe(0);
          expect(warningsOf(r.stderr), context).toEqual([...(p.warnings ?? []), ...(e.warnings ?? [])]);
          const jobsWord = e.jobs.length === 1 ? 'job' : 'jobs';
          expect(r.stdout.split('\n')[0], context).toBe(
            `Plan for '${wf}': ${e.jobs.length} ${jobsWord}, dependencies first (dry run: nothing is submitted)`,
          );
          const jobs = parsePlan(r.stdout);
          expect(
            jobs.map((j) => j.ref),
            context,
          ).toEqual(e.jobs);
          const target = jobs[jobs.length - 1]!;
          expect(Object.keys(target.fields).sort(), context).toEqual(Object.keys(e.target).sort());
          expect(shown(target.fields, e.target), context).toEqual(e.target);
        }),
      );
      expect(await serverFiles(sandbox.home)).toEqual([]);
    }),
  );

  it('plans the refused ${{ gpu }} workflow once --gpu is passed, as its error advises', () =>
    inProject('OlegBEZb__Personalize-Expedia-Hotel-Searches', async (sandbox) => {
      const r = await sandbox.dstack(['run', 'train-catboost', '--gpu', '1', '--dry-run']);
      expect(r.code, r.stderr).toBe(0);
      expect(parsePlan(r.stdout)).toEqual([
        {
          ref: 'train-catboost',
          fields: {
            provider: ['python'],
            python_script: ['dstack_catboost_ranker.py'],
            requirements: ['requirements.txt'],
            version: ['3.8'],
            resources: ['cpu 1, gpu 1'],
            artifacts: ['outputs'],
            'depends on': ['download-data:train_val_test (tag; resolved when the run is submitted)'],
            variables: ['gpu=1'],
          },
        },
      ]);
    }));

  it("lists the workflows with their help text on a bare 'dstack run --help'", () =>
    inProject('kengz__lean-dl-example', async (sandbox) => {
      const r = await sandbox.dstack(['run', '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(
        [
          'usage: dstack run {setup-train,setup-conda,test-conda,download,train,tune} ...',
          '',
          'positional arguments:',
          '    setup-train    Directly setup Conda env and train, all-in-one',
          '    setup-conda    Setup Conda env as artifact for reuse by mounting',
          '    test-conda     Quick test of Conda env',
          '    download       Download the MNIST dataset',
          '    train          Train an MNIST model',
          '    tune           Run hyperparameter tuning using Optuna and Hydra',
          '',
          'options:',
          '    -d, --detach    submit and print the run name without waiting',
          '    --tag TAG       tag the run once it is DONE',
          '    --no-cache      run every job again: reuse no earlier result',
          '    --dry-run       show the plan and submit nothing',
          '',
        ].join('\n'),
      );
      expect(await serverFiles(sandbox.home)).toEqual([]);
    }));

  it("shows a workflow's help text, and a ${{ }} with no value as a required argument", () =>
    inProject('OlegBEZb__Personalize-Expedia-Hotel-Searches', async (sandbox) => {
      const r = await sandbox.dstack(['run', 'train-catboost', '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(
        'usage: dstack run train-catboost --gpu GPU\n\nrequired arguments:\n' +
          '  --gpu GPU  no default: ${{ gpu }} has no value in .dstack/variables.yaml\n' +
          '\noptions:\n' +
          '    -d, --detach    submit and print the run name without waiting\n' +
          '    --tag TAG       tag the run once it is DONE\n' +
          '    --no-cache      run every job again: reuse no earlier result\n' +
          '    --dry-run       show the plan and submit nothing\n',
      );
    }));

  it('tells a project that has only variables.yaml to create workflows.yaml', () =>
    inProject(ONLY_VARIABLES, async (sandbox) => {
      const r = await sandbox.dstack(['run', 'train-mnist', '--dry-run']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `error: .dstack/workflows.yaml: not found (looked for ${join(sandbox.root, '.dstack', 'workflows.yaml')}): ` +
          "create it with a 'workflows:' list",
      );
    }));

  it('is summarised in docs/compatibility.md with the same numbers', async () => {
    const doc = await readFile(join(REPO, 'docs', 'compatibility.md'), 'utf8');
    const projects = Object.keys(EXPECTED).length;
    expect(doc).toContain(
      `**${cases.length} workflows in ${projects} projects: ${planned} plan, ${refused} are refused**`,
    );
    for (const [name, p] of Object.entries(EXPECTED)) {
      const ok = Object.values(p.workflows).filter((e) => 'jobs' in e).length;
      const total = Object.keys(p.workflows).length;
      expect(doc, name).toMatch(new RegExp(`^\\| \`${name}\` +\\| ${ok} of ${total} +\\|`, 'm'));
    }
  });
});
