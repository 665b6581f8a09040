/** A job's environment on the runner's host and in a container: one rule for both. */
import { describe, expect, it } from 'vitest';
import type { Assignment } from '../../src/core/api.js';
import { withRuntimeVariables } from '../../src/core/runtime-variables.js';
import { jobEnvironment, pipSettings } from '../../src/runner/job-environment.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';

function assignment(env: Record<string, string>): Assignment {
  const run = makeRun('fast-rabbit-1');
  const spec = makeSpec('train', { env, variables: { epochs: '3' } });
  const job = makeJob(run, 'train', { id: '0123456789ab', spec });
  // As JobRun gives it to the job: its runtime variables filled in.
  job.spec = withRuntimeVariables(spec, { runName: run.name, jobId: job.id });
  return { job, run, dependencies: [], logSeq: 0 };
}

const BASE = { PATH: '/usr/bin:/bin', PIP_INDEX_URL: 'https://pypi.example' };

describe('jobEnvironment', () => {
  it('expands $DSTACK_RUN_NAME and fills ${run_name} in environment: on the host', () => {
    const { env, exports } = jobEnvironment(
      assignment({ WANDB_NAME: 'run-$DSTACK_RUN_NAME', CKPT: 'ckpt/${run_name}', ID: '$DSTACK_JOB_ID:$EPOCHS' }),
      BASE,
      'host',
    );
    expect(exports).toEqual([]);
    expect(env).toMatchObject({
      WANDB_NAME: 'run-fast-rabbit-1',
      CKPT: 'ckpt/fast-rabbit-1',
      ID: '0123456789ab:3',
      DSTACK_RUN_NAME: 'fast-rabbit-1',
      DSTACK_WORKFLOW: 'train',
      run_name: 'fast-rabbit-1',
    });
  });

  it("gives a container the same values: dstack's settings are set where the job's script exports the rest", () => {
    const { env, exports } = jobEnvironment(
      assignment({ WANDB_NAME: 'run-$DSTACK_RUN_NAME', CKPT: 'ckpt/${run_name}' }),
      BASE,
      'container',
    );
    expect(env).toEqual({
      PIP_INDEX_URL: 'https://pypi.example',
      EPOCHS: '3',
      CKPT: 'ckpt/fast-rabbit-1',
      DSTACK_RUN_NAME: 'fast-rabbit-1',
      DSTACK_JOB_ID: '0123456789ab',
      DSTACK_WORKFLOW: 'train',
      run_name: 'fast-rabbit-1',
      job_id: '0123456789ab',
    });
    expect(exports).toEqual([`export WANDB_NAME='run-'"\${DSTACK_RUN_NAME}"`]);
  });

  it("numbers a host job's GPUs as nvidia-smi does (PCI bus order), unless the job sets CUDA_DEVICE_ORDER itself", () => {
    const withGpus = (env: Record<string, string>) => {
      const a = assignment(env);
      a.job.gpus = [
        { index: 1, name: 'A100', memory: 0 },
        { index: 3, name: 'A100', memory: 0 },
      ];
      return jobEnvironment(a, BASE, 'host').env;
    };
    expect(withGpus({})).toMatchObject({ CUDA_VISIBLE_DEVICES: '1,3', CUDA_DEVICE_ORDER: 'PCI_BUS_ID' });
    expect(withGpus({ CUDA_DEVICE_ORDER: 'FASTEST_FIRST' }).CUDA_DEVICE_ORDER).toBe('FASTEST_FIRST');
  });

  it("keeps dstack's settings over a job's own (config/ refuses them, a custom provider's job may not), in both", () => {
    const given = { DSTACK_RUN_NAME: 'mine', run_name: 'x$PATH' };
    for (const where of ['host', 'container'] as const) {
      const { env, exports } = jobEnvironment(assignment(given), BASE, where);
      expect([env.DSTACK_RUN_NAME, env.run_name, exports]).toEqual(['fast-rabbit-1', 'fast-rabbit-1', []]);
    }
  });
});

describe('pipSettings', () => {
  const base = { ...BASE, HOME: '/home/runner', PIP_NO_INDEX: '1', PIP_find_links: '/opt/wheels' };

  it("takes pip's settings of the runner and of environment: on the host, expanded, and nothing else", () => {
    const given = { PIP_FIND_LINKS: '$HOME/wheels', PIP_NO_INDEX: '0', WANDB_NAME: 'x' };
    expect(pipSettings(assignment(given), base, 'host')).toEqual({
      PIP_INDEX_URL: 'https://pypi.example',
      PIP_NO_INDEX: '0',
      PIP_find_links: '/opt/wheels',
      PIP_FIND_LINKS: '/home/runner/wheels',
    });
  });

  it("takes in a container those it gets, an entry with references as written: the image's shell expands it", () => {
    const given = { PIP_FIND_LINKS: '$HOME/wheels', PIP_EXTRA_INDEX_URL: 'https://more.example', DATA: '$HOME/data' };
    expect(pipSettings(assignment(given), base, 'container')).toEqual({
      PIP_INDEX_URL: 'https://pypi.example',
      PIP_NO_INDEX: '1',
      PIP_EXTRA_INDEX_URL: 'https://more.example',
      PIP_FIND_LINKS: '$HOME/wheels',
    });
  });
});
