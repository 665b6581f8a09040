/** Claims whose answer is lost on the way back: the job is offered again, not stranded. */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/core/job-status.js';
import { resumeJobs } from '../../src/server/control.js';
import { claim } from '../../src/server/scheduler.js';
import type { Engine } from '../../src/server/engine.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { addRunner, engineWith } from './engine-fixture.js';

async function withRunner(
  status: JobStatus = 'SUBMITTED',
  cpu = 4,
  more: [string, JobStatus, string[], number?][] = [],
) {
  const fixture = await engineWith([['aaaaaaaaaaaa', status, []], ...more]);
  await addRunner(fixture.engine, 'r1', { cpu, memory: 1 << 30, gpus: [] });
  return fixture;
}

describe('claim', () => {
  it('offers a job assigned to the runner again while the runner does not hold it', async () => {
    const { engine } = await withRunner();
    const first = await claim(engine, 'r1', [], 0);
    expect(first?.job).toMatchObject({ id: 'aaaaaaaaaaaa', status: 'DOWNLOADING', runner: 'r1' });
    // The answer never arrived: the runner claims again holding nothing.
    const again = await claim(engine, 'r1', [], 0);
    expect(again?.job.id).toBe('aaaaaaaaaaaa');
    expect(again?.run.name).toBe(first!.run.name);
    // One assignment, not two: the job moved to DOWNLOADING once.
    const events = (await engine.store.events('aaaaaaaaaaaa')).filter((e) => e.to === 'DOWNLOADING');
    expect(events).toHaveLength(1);
  });

  it('offers nothing more once the runner holds the job', async () => {
    const { engine } = await withRunner();
    await claim(engine, 'r1', [], 0);
    expect(await claim(engine, 'r1', ['aaaaaaaaaaaa'], 0)).toBeUndefined();
  });

  it("never offers one runner's job to another", async () => {
    const { engine } = await withRunner();
    await claim(engine, 'r1', [], 0);
    await addRunner(engine, 'r2');
    expect(await claim(engine, 'r2', [], 0)).toBeUndefined();
  });

  it('a draining runner gets no new work: its waiting claim is answered at once, with none; a lost assignment still comes back', async () => {
    const { engine } = await withRunner('SUBMITTED', 1, [['bbbbbbbbbbbb', 'SUBMITTED', []]]);
    expect((await claim(engine, 'r1', [], 0))?.job.id).toBe('aaaaaaaaaaaa'); // its answer lost on the way
    const started = Date.now();
    const waiting = claim(engine, 'r1', ['aaaaaaaaaaaa'], 10_000); // full: it waits for work
    await new Promise((r) => setTimeout(r, 50));
    engine.presence.drain('r1');
    expect(await waiting).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await claim(engine, 'r1', [], 0))?.job.id).toBe('aaaaaaaaaaaa');
    await engine.transition('aaaaaaaaaaaa', 'DOWNLOADING', 'FAILED', { reason: 'x' }, 'runner:r1'); // room again
    expect(await claim(engine, 'r1', [], 0)).toBeUndefined();
    expect((await engine.store.getJob('bbbbbbbbbbbb'))?.status).toBe('SUBMITTED');
  });

  it('wakes a waiting claim when a stopped job is resumed, not at the end of its wait', async () => {
    const { engine, jobs } = await withRunner('STOPPED');
    const started = Date.now();
    const waiting = claim(engine, 'r1', [], 10_000);
    await new Promise((r) => setTimeout(r, 50)); // the claim has looked once and waits
    await resumeJobs(engine, jobs, jobs, 'user:u');
    expect((await waiting)?.job).toMatchObject({ id: 'aaaaaaaaaaaa', status: 'DOWNLOADING', resumed: true });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waits for work before it looks again once the runner is found full, and takes the next job when one finishes', async () => {
    const { engine } = await withRunner('SUBMITTED', 1, [['bbbbbbbbbbbb', 'SUBMITTED', []]]);
    const looks = countLooks(engine);
    expect((await claim(engine, 'r1', [], 0))?.job.id).toBe('aaaaaaaaaaaa');
    looks.n = 0;
    const started = Date.now();
    const next = claim(engine, 'r1', ['aaaaaaaaaaaa'], 10_000); // right after the launch: the runner is full
    await new Promise((r) => setTimeout(r, 50));
    expect(looks.n).toBe(0);
    await engine.transition('aaaaaaaaaaaa', 'DOWNLOADING', 'RUNNING', {}, 'runner:r1');
    await engine.transition('aaaaaaaaaaaa', 'RUNNING', 'DONE', {}, 'runner:r1');
    expect((await next)?.job.id).toBe('bbbbbbbbbbbb');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(looks.n).toBe(1);
  });

  it('still gives a full runner a job that asks for no CPU', async () => {
    const { engine } = await withRunner('SUBMITTED', 1, [['bbbbbbbbbbbb', 'SUBMITTED', [], 0]]);
    expect((await claim(engine, 'r1', [], 0))?.job.id).toBe('aaaaaaaaaaaa');
    expect((await claim(engine, 'r1', ['aaaaaaaaaaaa'], 0))?.job.id).toBe('bbbbbbbbbbbb');
  });

  it('does not trust its note that nothing fits for longer than a second', async () => {
    const { engine } = await withRunner();
    const looks = countLooks(engine);
    expect((await claim(engine, 'r1', [], 0))?.job.id).toBe('aaaaaaaaaaaa'); // and no other job is ready
    // A job that woke no one (as one written by another server process on the same database would).
    const run = makeRun('quiet-fox-1');
    await engine.store.createRun(
      run,
      [makeJob(run, 'w', { id: 'cccccccccccc', spec: makeSpec('w'), submittedAt: 2 })],
      't',
    );
    looks.n = 0;
    expect(await claim(engine, 'r1', ['aaaaaaaaaaaa'], 0)).toBeUndefined();
    expect(looks.n).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await claim(engine, 'r1', ['aaaaaaaaaaaa'], 0))?.job.id).toBe('cccccccccccc');
  });
});

/** Counts the claims' reads of ready jobs, through the real store. */
function countLooks(engine: Engine): { n: number } {
  const looks = { n: 0 };
  const store = engine.store;
  const readyJobs = store.readyJobs.bind(store);
  store.readyJobs = (limit, offset) => {
    looks.n++;
    return readyJobs(limit, offset);
  };
  return looks;
}
