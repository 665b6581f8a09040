/**
 * A job whose commands fail saves its artifacts as a done one does (a training crash keeps its
 * checkpoints): RUNNING → UPLOADING → FAILED, against a real server, without the agent around it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stopJobs } from '../../src/server/control.js';
import { makeSpec } from '../store/fixtures.js';
import { claimedJob } from './claimed-job.js';

const CRASH = makeSpec('crash', {
  commands: ['mkdir -p ck && echo epoch5 > ck/state', 'echo crashing; exit 3'],
  artifacts: ['ck'],
});

describe('a job whose commands fail', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('saves its artifacts, then ends FAILED with its exit code', async () => {
    const { engine, id, run, log } = await claimedJob(CRASH, cleanup);
    await run.run();

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason, job?.exitCode]).toEqual(['FAILED', 'exit code 3', 3]);
    const events = await engine.store.events(id);
    expect(events.map((e) => `${e.from} -> ${e.to}`).slice(-3)).toEqual([
      'DOWNLOADING -> RUNNING',
      'RUNNING -> UPLOADING',
      'UPLOADING -> FAILED',
    ]);
    // UPLOADING already says how its commands ended: a restarted runner ends it so (leftover-job.ts).
    expect(events.at(-2)?.reason).toBe('exit code 3');
    const manifest = await engine.store.getArtifacts(id);
    expect(manifest?.artifacts.map((a) => [a.path, a.files.map((f) => [f.path, f.size])])).toEqual([
      ['ck', [['ck/state', 7]]],
    ]);
    const text = await log(id);
    expect(text).toContain('crashing');
    expect(text).toContain('[dstack] saved artifacts: 1 file, 7B');
  });

  it('ends FAILED saying both its exit code and why its artifacts could not be saved', async () => {
    const { engine, id, run, log, logged } = await claimedJob(CRASH, cleanup);
    engine.store.setArtifacts = () => Promise.reject(new Error('the disk is full'));
    await run.run();

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.exitCode]).toEqual(['FAILED', 3]);
    expect(job?.reason).toBe(
      'exit code 3, and its artifacts could not be saved: server error: internal server error; see the server log',
    );
    expect(await engine.store.getArtifacts(id)).toBeUndefined();
    expect(await log(id)).toContain(`[dstack] ${job?.reason}`);
    expect(logged.some((l) => l.includes(`job ${id} failed, and its artifacts could not be saved`))).toBe(true);
  });

  it('keeps nothing when aborted while it saves them: ABORTED, as a done job', async () => {
    const { engine, id, run, log } = await claimedJob(CRASH, cleanup);
    // A slow store keeps the save going long enough to abort it.
    const missing = engine.blobs.missing.bind(engine.blobs);
    engine.blobs.missing = async (digests) => {
      await new Promise((r) => setTimeout(r, 1500));
      return missing(digests);
    };
    const ran = run.run();
    await vi.waitFor(async () => expect((await engine.store.getJob(id))?.status).toBe('UPLOADING'), {
      timeout: 30_000,
      interval: 5,
    });
    // A plain stop lets a job's upload finish; an abort does not.
    expect(await stopJobs(engine, [(await engine.store.getJob(id))!], { actor: 'user:admin' })).toEqual([]);
    await stopJobs(engine, [(await engine.store.getJob(id))!], { abort: true, actor: 'user:admin' });
    run.request('abort');
    await ran;

    const job = await engine.store.getJob(id);
    expect([job?.status, job?.reason]).toEqual(['ABORTED', 'aborted by user']);
    expect(await engine.store.getArtifacts(id)).toBeUndefined();
    expect(await log(id)).toContain('[dstack] aborted while saving artifacts: none are kept');
  });
});
