/** Whether a runner could ever run a job: big enough for it, and having what it must run with. */
import { describe, expect, it } from 'vitest';
import { howToGet, lacks, neverRuns, runsOnHost } from '../../src/core/job-needs.js';
import type { Capacity } from '../../src/core/resources.js';
import { makeSpec } from '../store/fixtures.js';

const GB = 1e9;
const size = { cpu: 4, memory: 16 * GB, gpus: [] };
const CPU_BOX: Capacity = { ...size, docker: false, python: ['3', '3.10'] };
/** An older runner's, or Slurm's: no word of what it can run. */
const OLD: Capacity = { ...size };

const IMAGE = makeSpec('image', { provider: 'docker', image: 'busybox' });
const PY311 = makeSpec('py311', { provider: 'python', params: { python_script: 'x.py', python: '3.11' } });
const big = (spec = makeSpec('big')) => ({ ...spec, resources: { cpu: 8, memory: 0, gpu: 2 } });

describe('neverRuns', () => {
  it('is null for a job a runner is big enough for and has what it needs, or tells nothing of', () => {
    expect(neverRuns(makeSpec('bash'), CPU_BOX)).toBeNull();
    expect(neverRuns(makeSpec('py310', { provider: 'python', params: { version: '3.10.4' } }), CPU_BOX)).toBeNull();
    expect(neverRuns(IMAGE, OLD)).toBeNull();
    expect(neverRuns(PY311, OLD)).toBeNull();
  });

  it('says what the runner is too small for', () => {
    expect(neverRuns(big(), CPU_BOX)).toEqual({ size: '8 CPUs and 2 GPUs', ability: null });
  });

  it('says what the runner lacks to run it', () => {
    expect(neverRuns(IMAGE, CPU_BOX)).toEqual({ size: null, ability: 'a Docker engine' });
    expect(neverRuns(PY311, CPU_BOX)).toEqual({ size: null, ability: 'Python 3.11' });
  });

  it('says both when the runner is too small and lacks something', () => {
    expect(neverRuns(big(IMAGE), CPU_BOX)).toEqual({ size: '8 CPUs and 2 GPUs', ability: 'a Docker engine' });
  });

  it('counts a job that asks for all the runner has as one it could run', () => {
    expect(neverRuns(makeSpec('all', { resources: { cpu: 4, memory: 16 * GB, gpu: 0 } }), CPU_BOX)).toBeNull();
  });
});

describe('a runner started with --no-host-jobs (host: false)', () => {
  const CONTAINERS: Capacity = { ...size, docker: true, python: ['3'], host: false };
  const CURL = makeSpec('get', { provider: 'curl', params: { url: 'https://x/y', output: 'y' } });
  const CUSTOM = makeSpec('custom', { provider: 'my-provider' });

  it('lacks host jobs for a job without an image: bash, a custom provider, python run on the host', () => {
    expect(lacks(makeSpec('bash'), CONTAINERS)).toBe('host jobs enabled');
    expect(lacks(CUSTOM, CONTAINERS)).toBe('host jobs enabled');
    expect(lacks(PY311, CONTAINERS)).toBe('host jobs enabled');
    expect(neverRuns(makeSpec('bash'), CONTAINERS)).toEqual({ size: null, ability: 'host jobs enabled' });
  });

  it('runs jobs with an image, and python jobs it runs in images', () => {
    expect(lacks(IMAGE, CONTAINERS)).toBeNull();
    expect(lacks(makeSpec('bash-image', { image: 'ubuntu' }), CONTAINERS)).toBeNull();
    expect(lacks(PY311, { ...CONTAINERS, python: ['docker'] })).toBeNull();
  });

  it("lacks host jobs for a curl download, which the runner makes from its host's network", () => {
    expect(lacks(CURL, CONTAINERS)).toBe('host jobs enabled');
    expect(lacks({ ...CURL, image: 'ubuntu' }, CONTAINERS)).toBe('host jobs enabled'); // an image changes nothing
    expect(howToGet(CURL, CONTAINERS)).toBe(
      'its runners run only jobs in containers (dstack runner start --no-host-jobs), and a curl job downloads on ' +
        "the runner's host, from its network: download with curl in a job with an 'image:', or start a runner " +
        'without --no-host-jobs',
    );
  });

  it('still needs a Docker engine for a job with an image', () => {
    expect(lacks(IMAGE, { ...CONTAINERS, docker: false })).toBe('a Docker engine');
  });

  it('is not what a runner that tells nothing, or tells host: true, lacks', () => {
    expect(lacks(makeSpec('bash'), OLD)).toBeNull();
    expect(lacks(makeSpec('bash'), { ...CPU_BOX, host: true })).toBeNull();
  });

  it('says how to get such a job run', () => {
    expect(howToGet(makeSpec('bash'), CONTAINERS)).toBe(
      "its runners run only jobs in containers (dstack runner start --no-host-jobs): give the job an 'image:', " +
        'or start a runner without --no-host-jobs',
    );
  });

  it('runsOnHost: a job without an image, but python where the runner runs it in an image; curl always', () => {
    expect(runsOnHost(makeSpec('bash'), false)).toBe(true);
    expect(runsOnHost(PY311, false)).toBe(true);
    expect(runsOnHost(PY311, true)).toBe(false);
    expect(runsOnHost(IMAGE, false)).toBe(false);
    expect(runsOnHost(CURL, false)).toBe(true);
    expect(runsOnHost(CUSTOM, true)).toBe(true);
  });
});
