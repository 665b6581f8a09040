/** A real engine over a real SQLite store, holding one run whose jobs have the given ids, statuses and dependencies. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobStatus } from '../../src/core/job-status.js';
import type { JobRecord, RunRecord } from '../../src/core/records.js';
import { silentLogger } from '../../src/logger.js';
import { Engine } from '../../src/server/engine.js';
import { LocalBlobStore } from '../../src/server/storage/local-blob-store.js';
import { LogStore } from '../../src/server/storage/log-store.js';
import { openSqliteStore } from '../../src/server/store/sqlite.js';

/** Each job: id, status, dependencies, and optionally the CPUs it asks for (default 1). */
export async function engineWith(statuses: [string, JobStatus, string[], number?][], run: Partial<RunRecord> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-control-'));
  const store = await openSqliteStore(join(dir, 'db'));
  const engine = new Engine({
    store,
    blobs: new LocalBlobStore(join(dir, 'blobs')),
    logs: new LogStore(join(dir, 'logs')),
    logger: silentLogger,
  });
  const jobs: JobRecord[] = statuses.map(([id, status, deps, cpu], i) => ({
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
      resources: { cpu: cpu ?? 1, memory: 0, gpu: 0 },
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
      ...run,
    },
    jobs,
    'test',
  );
  return { engine, jobs };
}
