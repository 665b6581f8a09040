/** A real engine over a real SQLite store, holding one run whose jobs have the given ids, statuses and dependencies. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { JobStatus } from '../../src/core/job-status.js';
import type { JobRecord, RunRecord } from '../../src/core/records.js';
import type { Capacity } from '../../src/core/resources.js';
import type { Engine } from '../../src/server/engine.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { testApp } from './app-fixture.js';

/** Each job: id, status, dependencies, and optionally the CPUs it asks for (default 1); `open` as testApp's. */
export async function engineWith(
  statuses: [string, JobStatus, string[], number?][],
  run: Partial<RunRecord> = {},
  open?: Parameters<typeof testApp>[1],
) {
  const { store, engine, app } = await testApp('control', open);
  const runRecord = makeRun('calm-owl-1', {
    workflow: 'w1',
    repo: { root: '/' },
    codeDigest: 'c'.repeat(64),
    submittedAt: 1,
    user: 'u',
    ...run,
  });
  const jobs: JobRecord[] = statuses.map(([id, status, deps, cpu], i) =>
    makeJob(runRecord, `w${i}`, {
      id,
      spec: makeSpec(`w${i}`, { commands: ['true'], resources: { cpu: cpu ?? 1, memory: 0, gpu: 0 } }),
      cacheKey: id.repeat(2),
      dependsOn: deps,
      status,
      submittedAt: 1,
    }),
  );
  await store.createRun(runRecord, jobs, 'test');
  return { engine, jobs, app };
}

/** Store `content` as a blob; its digest. */
export async function putBlob(engine: Engine, content: string): Promise<string> {
  const digest = createHash('sha256').update(content).digest('hex');
  await engine.blobs.put(digest, Readable.from([Buffer.from(content)]));
  return digest;
}

/** Register an ACTIVE runner `name` of `total` (4 CPUs, 1 GiB by default), last heard from `at`. */
export async function addRunner(
  engine: Engine,
  name: string,
  total: Capacity = { cpu: 4, memory: 1 << 30, gpus: [] },
  at = Date.now(),
): Promise<void> {
  await engine.store.upsertRunner({ name, host: 'h', total, status: 'ACTIVE', updatedAt: at, registeredAt: at });
}

/** Take a SUBMITTED job through its statuses to DONE, on runner r1. */
export async function finish(engine: Engine, id: string): Promise<void> {
  const path: JobStatus[] = ['SUBMITTED', 'DOWNLOADING', 'RUNNING', 'UPLOADING', 'DONE'];
  for (let i = 1; i < path.length; i++) {
    const result = await engine.transition(id, path[i - 1]!, path[i]!, i === 1 ? { runner: 'r1' } : {}, 'test');
    if (!result.ok) throw new Error(`job ${id} did not go ${path[i - 1]} -> ${path[i]}`);
  }
}
