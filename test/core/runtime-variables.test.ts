import { describe, expect, it } from 'vitest';
import { dstackEnvironment, withRuntimeVariables } from '../../src/core/runtime-variables.js';
import { makeSpec } from '../store/fixtures.js';

const VALUES = { runName: 'fast-rabbit-1', jobId: '0123456789ab' };

describe('withRuntimeVariables', () => {
  it('fills $run_name and $job_id, in each spelling, in every field the runner reads', () => {
    const spec = makeSpec('train', {
      image: 'ubuntu:$run_name',
      commands: ['echo $run_name ${job_id} ${{ run_name }} ${{job_id}}'],
      env: { CKPT: 'ckpt/${run_name}', PLAIN: 'x' },
      artifacts: ['out/$run_name', '/opt/$job_id'],
      workingDir: 'runs/${{ run_name }}',
      params: { output: 'data/$run_name.bin', nested: { list: ['$job_id', 3] } },
    });
    expect(withRuntimeVariables(spec, VALUES)).toEqual({
      ...spec,
      image: 'ubuntu:fast-rabbit-1',
      commands: ['echo fast-rabbit-1 0123456789ab fast-rabbit-1 0123456789ab'],
      env: { CKPT: 'ckpt/fast-rabbit-1', PLAIN: 'x' },
      artifacts: ['out/fast-rabbit-1', '/opt/0123456789ab'],
      workingDir: 'runs/fast-rabbit-1',
      params: { output: 'data/fast-rabbit-1.bin', nested: { list: ['0123456789ab', 3] } },
    });
  });

  it("leaves the rest of a string alone: longer names, the shell's variables, another tool's ${{ }}", () => {
    const spec = makeSpec('t', { commands: ['echo $run_names ${run_name_x} $PATH $$ ${{ github.sha }} $job_id_2'] });
    expect(withRuntimeVariables(spec, VALUES).commands).toEqual(spec.commands);
  });

  it('writes an escaped one as it is, one $ less: $$run_name is the text $run_name', () => {
    const spec = makeSpec('t', { commands: ['echo $$run_name $${job_id} $${{ run_name }} $run_name'] });
    expect(withRuntimeVariables(spec, VALUES).commands).toEqual([
      'echo $run_name ${job_id} ${{ run_name }} fast-rabbit-1',
    ]);
  });
});

describe('dstackEnvironment', () => {
  it("is the run's name, the job's id and the workflow, under both spellings of the runtime variables", () => {
    expect(dstackEnvironment(VALUES, 'train')).toEqual({
      DSTACK_RUN_NAME: 'fast-rabbit-1',
      DSTACK_JOB_ID: '0123456789ab',
      DSTACK_WORKFLOW: 'train',
      run_name: 'fast-rabbit-1',
      job_id: '0123456789ab',
    });
  });
});
