/**
 * A stop or abort heard while a job's workspace is being prepared (its dependency's artifacts
 * downloading, or a request failing and retried) ends the job there: its commands never run.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runnerRetry } from '../../src/client/retry.js';
import { UnavailableError } from '../../src/core/errors.js';
import type { Engine } from '../../src/server/engine.js';
import { resumeJobs, stopJobs } from '../../src/server/control.js';
import { makeSpec } from '../store/fixtures.js';
import { testRunner } from './claimed-job.js';

/** 32 MB in 4 files: each its own blob, downloaded on its own. */
const DEP = makeSpec('dep', {
  commands: ['mkdir data', 'for i in 1 2 3 4; do head -c 8000000 /dev/urandom > data/$i.bin; done'],
  artifacts: ['data'],
});

/** The job under test: its first command leaves `marker` behind, so whether it ran is plain. */
const consumer = (marker: string) =>
  makeSpec('consumer', {
    dependsOn: [{ ref: 'dep' }],
    commands: [`touch ${marker}`, 'echo SIDE EFFECT RAN', 'mkdir out', 'echo result > out/result'],
    artifacts: ['out'],
  });

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Whether `work` settles within `ms`. */
const endsWithin = (work: Promise<unknown>, ms: number) =>
  Promise.race([work.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

/** The digests of the blobs of `jobId`'s saved artifacts. */
async function artifactBlobs(engine: Engine, jobId: string): Promise<Set<string>> {
  const manifest = await engine.store.getArtifacts(jobId);
  return new Set(manifest!.artifacts.flatMap((a) => a.files.flatMap((f) => (f.digest ? [f.digest] : []))));
}

/**
 * The server's store sends each blob of `digests` as far as its first chunk and then holds it
 * until `release`: a download under way that goes no further until the test lets it.
 */
function stallBlobs(engine: Engine, digests: Set<string>) {
  const blobs = engine.blobs;
  const get = blobs.get.bind(blobs);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started = false;
  async function* held(content: Readable) {
    let first = true;
    for await (const chunk of content) {
      yield chunk as Buffer;
      if (first) await released;
      first = false;
    }
  }
  blobs.get = async (digest) => {
    const content = await get(digest);
    if (!digests.has(digest)) return content;
    started = true;
    return Readable.from(held(content));
  };
  return { started: () => started, release };
}

describe('a job stopped or aborted before its commands start', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A run of DEP (run to its end here) and the consumer of its artifacts, claimed and not started. */
  async function consumerOfDep() {
    const marks = await mkdtemp(join(tmpdir(), 'dstack-marks-'));
    cleanup.push(() => rm(marks, { recursive: true, force: true }));
    const marker = join(marks, 'side-effect');
    const warned: string[] = [];
    const retry = runnerRetry({ warn: (message) => void warned.push(message) });
    const runner = await testRunner([DEP, consumer(marker)], cleanup, { retry });
    const dep = await runner.claim();
    await dep.run.run();
    expect((await runner.engine.store.getJob(dep.id))?.status).toBe('DONE');
    const digests = await artifactBlobs(runner.engine, dep.id);
    return { ...runner, marker, warned, digests, ...(await runner.claim()) };
  }

  it('a stop while it downloads its dependency’s artifacts ends it STOPPED at once, nothing run or saved; it resumes', async () => {
    const { engine, claim, log, logged, marker, digests, id, run } = await consumerOfDep();
    const stall = stallBlobs(engine, digests);
    cleanup.push(async () => stall.release());
    const ran = run.run();
    await vi.waitFor(() => expect(stall.started()).toBe(true), { timeout: 30_000, interval: 10 });
    expect((await engine.store.getJob(id))?.status).toBe('DOWNLOADING');
    // What `dstack stop` does, and what the runner's heartbeat then hears.
    await stopJobs(engine, [(await engine.store.getJob(id))!], { actor: 'user:admin' });
    run.request('stop');
    expect(await endsWithin(ran, 10_000)).toBe(true); // the download did not go on to its end
    stall.release();
    await ran;

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason]).toEqual(['STOPPED', 'stopped by user']);
    expect((await engine.store.events(id)).map((e) => e.to)).toEqual([
      'SUBMITTED',
      'DOWNLOADING',
      'STOPPING',
      'STOPPED',
    ]);
    expect(await exists(marker)).toBe(false);
    expect(await engine.store.getArtifacts(id)).toBeUndefined();
    const text = await log(id);
    expect(text.split('\n')).toContain(
      '[dstack] stopped before its commands started: they did not run, and no artifacts are saved',
    );
    expect(text).not.toContain('SIDE EFFECT RAN');
    expect(logged.filter((line) => line.includes('failed in the runner'))).toEqual([]); // a stop, not an error

    // `dstack resume`: the job runs now, from the start.
    await resumeJobs(engine, [job!], await engine.store.jobsOfRuns([job!.runName]), 'user:admin');
    const again = await claim();
    expect(again.id).toBe(id);
    await again.run.run();
    expect((await engine.store.getJob(id))?.status).toBe('DONE');
    expect(await exists(marker)).toBe(true);
    expect(await log(id)).toContain('SIDE EFFECT RAN');
  });

  it('an abort while it downloads its dependency’s artifacts ends it ABORTED at once, nothing run or saved', async () => {
    const { engine, log, logged, marker, digests, id, run } = await consumerOfDep();
    const stall = stallBlobs(engine, digests);
    cleanup.push(async () => stall.release());
    const ran = run.run();
    await vi.waitFor(() => expect(stall.started()).toBe(true), { timeout: 30_000, interval: 10 });
    // What `dstack stop --abort` does, and what the runner's heartbeat then hears.
    await stopJobs(engine, [(await engine.store.getJob(id))!], { abort: true, actor: 'user:admin' });
    run.request('abort');
    expect(await endsWithin(ran, 10_000)).toBe(true);
    stall.release();
    await ran;

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason]).toEqual(['ABORTED', 'aborted by user']);
    expect((await engine.store.events(id)).map((e) => e.to)).toEqual([
      'SUBMITTED',
      'DOWNLOADING',
      'ABORTING',
      'ABORTED',
    ]);
    expect(await exists(marker)).toBe(false);
    expect(await engine.store.getArtifacts(id)).toBeUndefined();
    const text = await log(id);
    expect(text.split('\n')).toContain('[dstack] aborted before its commands started: they did not run');
    expect(text).not.toContain('SIDE EFFECT RAN');
    expect(logged.filter((line) => line.includes('failed in the runner'))).toEqual([]); // an abort, not an error
  });

  it('a stop while the runner retries a failing download ends the retries and the job, STOPPED, its commands not run', async () => {
    const { engine, log, logged, marker, digests, warned, id, run } = await consumerOfDep();
    // The store fails every read of the dependency's blobs: the server answers 503, which a runner retries for minutes.
    const blobs = engine.blobs;
    const get = blobs.get.bind(blobs);
    blobs.get = async (digest) => {
      if (digests.has(digest)) throw new UnavailableError('the blob store is not answering');
      return get(digest);
    };
    const ran = run.run();
    // Its fifth wait before a try: 3.2 s.
    const waiting = 'download of data/1.bin failed; retrying in 3200 ms';
    await vi.waitFor(() => expect(warned).toContain(waiting), { timeout: 30_000, interval: 10 });
    await stopJobs(engine, [(await engine.store.getJob(id))!], { actor: 'user:admin' });
    run.request('stop');
    expect(await endsWithin(ran, 2_000)).toBe(true); // not the retries' two minutes, nor the rest of that wait
    blobs.get = get;
    await ran;

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason]).toEqual(['STOPPED', 'stopped by user']);
    expect(await exists(marker)).toBe(false);
    const text = await log(id);
    expect(text.split('\n')).toContain(
      '[dstack] stopped before its commands started: they did not run, and no artifacts are saved',
    );
    expect(text).not.toContain('SIDE EFFECT RAN');
    expect(logged.filter((line) => line.includes('failed in the runner'))).toEqual([]); // a stop, not an error
  });
});
