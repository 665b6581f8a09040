/** Resume's refusals, on the real engine over a real SQLite store. */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/core/errors.js';
import { resumeJobs } from '../../src/server/control.js';
import { engineWith } from './engine-fixture.js';

describe('resume', () => {
  it('refuses a stopped job that an unfinished job depends on, naming it', async () => {
    const { engine, jobs } = await engineWith([
      ['aaaaaaaaaaaa', 'STOPPED', []],
      ['bbbbbbbbbbbb', 'SUBMITTED', ['aaaaaaaaaaaa']],
    ]);
    await expect(resumeJobs(engine, [jobs[0]!], jobs, 'user:u')).rejects.toThrow(
      new ConflictError('job aaaaaaaaaaaa (w0) cannot be resumed: other jobs depend on it (bbbbbbbbbbbb)'),
    );
    expect((await engine.store.getJob('aaaaaaaaaaaa'))!.status).toBe('STOPPED');
  });

  it('resumes a stopped job whose dependents are finished, back to SUBMITTED with an event', async () => {
    const { engine, jobs } = await engineWith([
      ['aaaaaaaaaaaa', 'STOPPED', []],
      ['bbbbbbbbbbbb', 'STOPPED', ['aaaaaaaaaaaa']],
    ]);
    const [resumed] = await resumeJobs(engine, [jobs[0]!], jobs, 'user:u');
    expect(resumed).toMatchObject({ id: 'aaaaaaaaaaaa', status: 'SUBMITTED', resumed: true });
    const events = await engine.store.events('aaaaaaaaaaaa');
    expect(events.at(-1)).toMatchObject({ from: 'STOPPED', to: 'SUBMITTED', actor: 'user:u' });
  });

  it('refuses a stopped job whose dependency ended other than DONE, unless that is resumed with it', async () => {
    const { engine, jobs } = await engineWith([
      ['aaaaaaaaaaaa', 'STOPPED', []],
      ['bbbbbbbbbbbb', 'STOPPED', ['aaaaaaaaaaaa']],
      ['cccccccccccc', 'FAILED', []],
      ['dddddddddddd', 'STOPPED', ['cccccccccccc']],
    ]);
    await expect(resumeJobs(engine, [jobs[1]!], jobs, 'user:u')).rejects.toThrow(
      new ConflictError(
        'job bbbbbbbbbbbb (w1) cannot be resumed: its dependency w0 (aaaaaaaaaaaa) is STOPPED; resume it too (dstack resume calm-owl-1)',
      ),
    );
    await expect(resumeJobs(engine, [jobs[3]!], jobs, 'user:u')).rejects.toThrow(
      new ConflictError(
        'job dddddddddddd (w3) cannot be resumed: its dependency w2 (cccccccccccc) is FAILED; run the workflow again with dstack run w3',
      ),
    );
    expect((await engine.store.getJob('bbbbbbbbbbbb'))!.status).toBe('STOPPED');
    const resumed = await resumeJobs(engine, [jobs[0]!, jobs[1]!], jobs, 'user:u');
    expect(resumed.map((j) => j.status)).toEqual(['SUBMITTED', 'SUBMITTED']);
  });
});
