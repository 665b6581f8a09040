/** Resume's refusals, on the real engine over a real SQLite store. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/core/errors.js';
import type { JobStatus } from '../../src/core/job-status.js';
import type { JobRecord } from '../../src/core/records.js';
import { silentLogger } from '../../src/logger.js';
import { resumeJobs } from '../../src/server/control.js';
import { Engine } from '../../src/server/engine.js';
import { LocalBlobStore } from '../../src/server/storage/local-blob-store.js';
import { LogStore } from '../../src/server/storage/log-store.js';
import { openSqliteStore } from '../../src/server/store/sqlite.js';

async function engineWith(statuses: [string, JobStatus, string[]][]) {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-control-'));
  const store = await openSqliteStore(join(dir, 'db'));
  const engine = new Engine({
    store,
    blobs: new LocalBlobStore(join(dir, 'blobs')),
    logs: new LogStore(join(dir, 'logs')),
    logger: silentLogger,
  });
  const jobs: JobRecord[] = statuses.map(([id, status, deps], i) => ({
    id,
    runName: 'calm-owl-1',
    ref: `w${i}`,
    workflow: `w${i}`,
    spec: {
      ref: `w${i}`,
      workflow: `w${i}`,
      provider: 'bash',
      commands: ['true'],
      env: {},
      variables: {},
      artifacts: [],
      resources: { cpu: 1, memory: 0, gpu: 0 },
      dependsOn: [],
      params: {},
    },
    cacheKey: id.repeat(2),
    dependsOn: deps,
    status,
    submittedAt: 1,
  }));
  await store.createRun(
    {
      name: 'calm-owl-1',
      workflow: 'w1',
      overrides: {},
      repo: { root: '/' },
      codeDigest: 'c'.repeat(64),
      submittedAt: 1,
      user: 'u',
    },
    jobs,
    'test',
  );
  return { engine, jobs };
}

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
});
