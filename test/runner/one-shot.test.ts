/** The one-shot runner keeps the GPUs the cluster's scheduler gave the job. */
import { describe, expect, it } from 'vitest';
import type { Assignment } from '../../src/core/api.js';
import { visibleGpus } from '../../src/runner/one-shot.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';

const run = makeRun('calm-owl-1');
const assignment = (gpu: number): Assignment => ({
  job: makeJob(run, 'train', {
    spec: makeSpec('train', { resources: { cpu: 1, memory: 0, gpu } }),
    gpus: [
      { index: 5, name: 'a100', memory: 0 },
      { index: 6, name: 'a100', memory: 0 },
    ],
  }),
  run,
  dependencies: [],
  logSeq: 0,
});

describe('one-shot GPUs', () => {
  it("numbers the job's GPUs as Slurm's CUDA_VISIBLE_DEVICES does, not as the server counted them", () => {
    expect(visibleGpus('2,3', assignment(2))).toEqual([
      { index: 2, name: 'a100', memory: 0 },
      { index: 3, name: 'a100', memory: 0 },
    ]);
  });

  it('gives a job no GPU when it asked for none and Slurm set none', () => {
    expect(visibleGpus(undefined, assignment(0))).toEqual([]);
    expect(visibleGpus('', assignment(0))).toEqual([]);
  });

  it('counts from 0 when Slurm names GPUs by UUID or sets nothing', () => {
    expect(visibleGpus('GPU-8a1f,GPU-77c2', assignment(2)).map((g) => g.index)).toEqual([0, 1]);
    expect(visibleGpus(undefined, assignment(2)).map((g) => g.index)).toEqual([0, 1]);
  });
});
