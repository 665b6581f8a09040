/**
 * Jobs go only to runners that can run them (a Docker engine for an image, the Python a python
 * job names), through the real runner routes over a real SQLite store; a runner that tells
 * nothing (an older one) is offered any job, as before; a job no runner can run says why.
 */
import { describe, expect, it } from 'vitest';
import type { Capacity } from '../../src/core/resources.js';
import type { JobSpec } from '../../src/core/job-spec.js';
import { issueToken } from '../../src/server/auth.js';
import { explainWaiting } from '../../src/server/monitor.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';

const size = { cpu: 4, memory: 1 << 30, gpus: [] };
const CPU_BOX: Capacity = { ...size, docker: false, python: ['3', '3.10'] };
const DOCKER_BOX: Capacity = { ...size, docker: true, python: ['3'] };
/** An older runner's register: no word of what it can run. */
const OLD: Capacity = { ...size };

const IMAGE = makeSpec('image', { provider: 'docker', image: 'busybox' });
const BASH = makeSpec('bash');
const PY311 = makeSpec('py311', { provider: 'python', params: { python_script: 'x.py', python: '3.11' } });
const PY310 = makeSpec('py310', { provider: 'python', params: { python_script: 'x.py', version: '3.10.4' } });
/** A host job bigger than the second runner. */
const big = makeSpec('big', { resources: { cpu: 2, memory: 0, gpu: 0 } });

const jobId = (i: number) => i.toString(16).padStart(12, '0');

/** A server with `runners` registered through the API and one run of `specs` (ids jobId(0), jobId(1), …, oldest first). */
async function serverWith(runners: Record<string, Capacity>, specs: JobSpec[]) {
  const { store, engine, app } = await testApp('job-needs');
  const tokens: Record<string, string> = {};
  for (const [name, total] of Object.entries(runners)) {
    tokens[name] = await issueToken(store, 'runner', name, false);
    const answer = await callApi(app, tokens[name], 'POST', '/api/runner/register', {
      name,
      host: 'h',
      total,
      jobIds: [],
    });
    expect(answer.status).toBe(200);
  }
  const run = makeRun('needs-run');
  const jobs = specs.map((spec, i) => makeJob(run, spec.ref, { id: jobId(i), spec, submittedAt: i }));
  await store.createRun(run, jobs, 'test');
  const api = (name: string, path: string, body: object) =>
    callApi(app, tokens[name]!, 'POST', `/api/runner/${path}`, { name, ...body });
  const held: Record<string, string[]> = {};
  /** A claim by `name`, holding the jobs it was given before (else it is offered them again). */
  const claim = async (name: string) => {
    const { json } = await api(name, 'claim', { jobIds: (held[name] ??= []), waitMs: 0 });
    const job = (json['assignment'] as { job: { id: string; spec: JobSpec } } | null)?.job;
    if (job) held[name]!.push(job.id);
    return job?.spec.ref;
  };
  const reason = async (ref: string) => (await store.getJob(jobs.find((j) => j.spec.ref === ref)!.id))?.reason;
  return { store, engine, api, claim, reason };
}

describe('what a runner can run', () => {
  it('gives a job with an image only to a runner with a Docker engine, though an older one is first in line', async () => {
    const { claim } = await serverWith({ 'cpu-box': CPU_BOX, 'docker-box': DOCKER_BOX }, [IMAGE, BASH]);
    expect(await claim('cpu-box')).toBe('bash');
    expect(await claim('cpu-box')).toBeUndefined();
    expect(await claim('docker-box')).toBe('image');
  });

  it('does not hold back room on a runner for a job it can never run', async () => {
    // One CPU: an older job that fits but needs Docker must not keep the younger one waiting.
    const { claim } = await serverWith({ 'cpu-box': { ...CPU_BOX, cpu: 1 } }, [IMAGE, BASH]);
    expect(await claim('cpu-box')).toBe('bash');
  });

  it('gives a python job only to a runner with the Python it names', async () => {
    const { claim } = await serverWith({ 'docker-box': DOCKER_BOX, 'cpu-box': CPU_BOX }, [PY311, PY310]);
    expect(await claim('docker-box')).toBeUndefined();
    expect(await claim('cpu-box')).toBe('py310');
    expect(await claim('cpu-box')).toBeUndefined();
  });

  it('runs python jobs in images on a runner with DSTACK_PYTHON_RUNTIME=docker: they need its Docker engine', async () => {
    const inDocker = (docker: boolean): Capacity => ({ ...size, docker, python: ['docker'] });
    const { claim, engine, reason } = await serverWith({ a: inDocker(false), b: inDocker(true) }, [PY311]);
    await explainWaiting(engine);
    expect(await reason('py311')).toBeUndefined();
    expect(await claim('a')).toBeUndefined();
    expect(await claim('b')).toBe('py311');
  });

  it('offers any job to a runner that tells nothing of what it can run (an older runner)', async () => {
    const { claim, engine, reason } = await serverWith({ old: OLD }, [IMAGE, PY311]);
    await explainWaiting(engine);
    expect(await reason('image')).toBeUndefined();
    expect(await claim('old')).toBe('image');
    expect(await claim('old')).toBe('py311');
  });

  it('says why a job no runner can run waits, naming the runners', async () => {
    const big = makeSpec('big', { image: 'busybox', resources: { cpu: 8, memory: 0, gpu: 0 } });
    const { engine, reason } = await serverWith({ 'cpu-box': CPU_BOX, small: { ...DOCKER_BOX, cpu: 2 } }, [
      IMAGE,
      big,
      PY311,
    ]);
    await explainWaiting(engine);
    expect(await reason('image')).toBeUndefined(); // small can run it
    expect(await reason('big')).toBe(
      'no runner has what it needs (cpu-box: 8 CPUs and a Docker engine; small: 8 CPUs)',
    );
    expect(await reason('py311')).toBe('no runner has Python 3.11 (runners: cpu-box, small)');
  });

  it("says so when no runner's Docker engine answers, and clears it once one does (a heartbeat tells)", async () => {
    const { engine, api, claim, reason } = await serverWith({ 'cpu-box': CPU_BOX }, [IMAGE]);
    await explainWaiting(engine);
    expect(await reason('image')).toBe('no runner has a Docker engine (runners: cpu-box)');
    const beat = await api('cpu-box', 'heartbeat', { jobIds: [], waitMs: 0, total: { ...CPU_BOX, docker: true } });
    expect(beat.status).toBe(200);
    await explainWaiting(engine);
    expect(await reason('image')).toBeUndefined();
    expect(await claim('cpu-box')).toBe('image');
  });

  it("names why each runner's Docker engine does not answer, as the runner told it, without its hint", async () => {
    const denied = 'none answers at /run/d.sock (permission denied): uid 1000 may not use it; add that user …';
    const unsupported = "DOCKER_HOST 'bogus' is not supported: use unix:///path, tcp://host:port or npipe://";
    const { engine, reason } = await serverWith(
      { a: { ...CPU_BOX, dockerProblem: denied }, b: { ...CPU_BOX, dockerProblem: unsupported }, c: CPU_BOX },
      [IMAGE],
    );
    await explainWaiting(engine);
    expect(await reason('image')).toBe(
      'no runner has a Docker engine (runners: a (none answers at /run/d.sock (permission denied)), ' +
        "b (DOCKER_HOST 'bogus' is not supported), c)",
    );
  });

  it('gives a runner started with --no-host-jobs no job that runs on its host, saying why it waits', async () => {
    const CONTAINERS: Capacity = { ...DOCKER_BOX, host: false };
    const CURL = makeSpec('curl', { provider: 'curl', params: { url: 'https://example.com/x', output: 'x' } });
    const { engine, claim, reason } = await serverWith({ r1: CONTAINERS }, [BASH, PY310, IMAGE, CURL]);
    await explainWaiting(engine);
    expect(await reason('bash')).toBe('no runner has host jobs enabled (runners: r1)');
    expect(await reason('py310')).toBe('no runner has host jobs enabled (runners: r1)');
    // Downloaded by the runner from its host's network, which the containers do not share.
    expect(await reason('curl')).toBe('no runner has host jobs enabled (runners: r1)');
    expect(await reason('image')).toBeUndefined();
    expect(await claim('r1')).toBe('image');
    expect(await claim('r1')).toBeUndefined();
  });

  it('gives host jobs to a runner without --no-host-jobs beside one with it, and names only the one that lacks it', async () => {
    const CONTAINERS: Capacity = { ...DOCKER_BOX, host: false };
    const { engine, claim, reason } = await serverWith({ r1: CONTAINERS, r2: { ...DOCKER_BOX, cpu: 1 } }, [BASH, big]);
    await explainWaiting(engine);
    expect(await reason('bash')).toBeUndefined();
    expect(await reason('big')).toBe('no runner has what it needs (r1: host jobs enabled; r2: 2 CPUs)');
    expect(await claim('r1')).toBeUndefined();
    expect(await claim('r2')).toBe('bash');
  });

  it('fails such a job on the embedded server, whose one runner is this machine', async () => {
    const { engine, store } = await serverWith({ local: CPU_BOX }, [IMAGE]);
    await explainWaiting(engine, true);
    expect(await store.getJob(jobId(0))).toMatchObject({
      status: 'FAILED',
      reason:
        'this machine does not have a Docker engine: none answers at its DOCKER_HOST ' +
        '(start dockerd, or set DOCKER_HOST to its socket)',
    });
  });

  it("fails it with the runner's own words for why no Docker engine answers, naming the socket", async () => {
    const dockerProblem = 'none answers at /run/d.sock (permission denied): uid 1000 may not use it; add that user …';
    const { engine, store } = await serverWith({ local: { ...CPU_BOX, dockerProblem } }, [IMAGE]);
    await explainWaiting(engine, true);
    expect(await store.getJob(jobId(0))).toMatchObject({
      status: 'FAILED',
      reason: `this machine does not have a Docker engine: ${dockerProblem}`,
    });
  });
});
