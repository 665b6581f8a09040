/** Claims whose answer is lost on the way back: the job is offered again, not stranded. */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/core/job-status.js';
import { resumeJobs } from '../../src/server/control.js';
import { claim } from '../../src/server/scheduler.js';
import { engineWith } from './engine-fixture.js';

async function withRunner(status: JobStatus = 'SUBMITTED') {
  const fixture = await engineWith([['aaaaaaaaaaaa', status, []]]);
  await fixture.engine.store.upsertRunner({
    name: 'r1',
    host: 'h',
    total: { cpu: 4, memory: 1 << 30, gpus: [] },
    status: 'ACTIVE',
    updatedAt: Date.now(),
    registeredAt: Date.now(),
  });
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
    await engine.store.upsertRunner({
      name: 'r2',
      host: 'h',
      total: { cpu: 4, memory: 1 << 30, gpus: [] },
      status: 'ACTIVE',
      updatedAt: Date.now(),
      registeredAt: Date.now(),
    });
    expect(await claim(engine, 'r2', [], 0)).toBeUndefined();
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
});
