/**
 * A prune of a long history deletes its runs in batches, letting submissions in between; what a
 * submission, a tag or a new run's job asks of a run meanwhile keeps that run.
 */
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobPath } from '../../src/files/blob-path.js';
import type { JobRecord } from '../../src/core/records.js';
import { prune } from '../../src/server/prune.js';
import { submitRun } from '../../src/server/submit.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { testApp } from './app-fixture.js';
import { putBlob } from './engine-fixture.js';
import { tracedStore } from './traced-store.js';

/** More runs than one batch (500) deletes. */
const RUNS = 1200;

async function history() {
  const app = await testApp('prune-batches');
  const { store } = app;
  const jobOf = (i: number) => i.toString(16).padStart(12, '0');
  for (let i = 0; i < RUNS; i++) {
    const run = makeRun(`old-${i}`, { submittedAt: 1000 + i });
    // old-1100 reuses old-1099's job: kept, it keeps that one.
    const reuses = i === 1100 ? { reason: 'cached', cachedFrom: jobOf(1099) } : {};
    await store.createRun(run, [makeJob(run, 'train', { id: jobOf(i), status: 'DONE', ...reuses })], 'test');
  }
  return { ...app, jobOf };
}

describe('a prune of many runs', () => {
  it('answers a submission made while it deletes before it has deleted them all', async () => {
    const { store, engine } = await history();
    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const remove = engine.logs.delete.bind(engine.logs);
    let submitted: Promise<unknown> | undefined;
    const order: string[] = [];
    engine.logs.delete = async (jobId) => {
      // At the first log it deletes (in its first batch): a `dstack run` comes.
      submitted ??= submitRun(engine, 'ada', {
        workflow: 'train',
        overrides: {},
        repo: { root: '/' },
        codeDigest,
        jobs: [makeSpec('train')],
      }).then(() => order.push('submission answered'));
      await remove(jobId);
    };
    const pruned = await prune(engine, 0).then((result) => (order.push('prune done'), result));
    await submitted;
    // Held until the whole prune was done, it was answered after it.
    expect(order).toEqual(['submission answered', 'prune done']);
    expect(pruned.runs).toHaveLength(RUNS);
    expect((await store.listRuns({})).map((r) => r.workflow)).toEqual(['train']); // its own run
  });

  it('keeps a run tagged, reused or depended on between its batches, and the runs that one needs', async () => {
    const { store, engine, jobOf } = await history();
    const remove = engine.logs.delete.bind(engine.logs);
    let meanwhile: Promise<unknown> | undefined;
    engine.logs.delete = async (jobId) => {
      // Between the first batch and the next, under the submissions' lock as submissions and tags are.
      meanwhile ??= engine.serialize(async () => {
        await store.setTag('old-1199', 'best');
        const reusing = makeRun('new-1', { submittedAt: Date.now() });
        const copy: JobRecord = makeJob(reusing, 'train', {
          id: 'f00000000001',
          status: 'DONE',
          reason: 'cached',
          cachedFrom: jobOf(1100),
        });
        // A cached copy of a job that depends on another old run's job: it has no dependency rows.
        const dependent = makeJob(reusing, 'eval', {
          id: 'f00000000002',
          status: 'DONE',
          reason: 'cached',
          cachedFrom: jobOf(1000),
          dependsOn: [jobOf(900)],
        });
        await store.createRun(reusing, [copy, dependent], 'test');
        const waiting = makeRun('new-2', { submittedAt: Date.now() });
        await store.createRun(
          waiting,
          [makeJob(waiting, 'eval', { id: 'f00000000003', dependsOn: [jobOf(800)] })],
          'test',
        );
      });
      await remove(jobId);
    };
    const pruned = await prune(engine, 60_000);
    await meanwhile;
    const left = (await store.listRuns({})).map((r) => r.name).sort();
    expect(left).toEqual(['new-1', 'new-2', 'old-1000', 'old-1099', 'old-1100', 'old-1199', 'old-800', 'old-900']);
    expect(pruned.runs).toHaveLength(RUNS - 6);
    expect(pruned.runs).not.toContain('old-1100');
  });

  it('deletes blobs in batches, and keeps the code of a run submitted between them', async () => {
    const { dir, engine } = await testApp('prune-blob-batches');
    const old = new Date(Date.now() - 2 * 3600_000); // older than the hour in which blobs stay
    const digests: string[] = [];
    for (let i = 0; i < 600; i++) {
      // Code manifests no run names (any old blob would do): each a run's code once.
      const digest = await putBlob(engine, JSON.stringify({ files: [], n: i }));
      await utimes(blobPath(join(dir, 'blobs'), digest), old, old);
      digests.push(digest);
    }
    let late = '';
    for await (const blob of engine.blobs.list()) late = blob.digest; // in the last batch of deletions
    const remove = engine.blobs.delete.bind(engine.blobs);
    const order: string[] = [];
    let submitted: Promise<unknown> | undefined;
    engine.blobs.delete = async (digest) => {
      // Its client asked whether the manifest is stored (`POST /api/blobs/missing`), which is noted nowhere.
      submitted ??= submitRun(engine, 'ada', {
        workflow: 'train',
        overrides: {},
        repo: { root: '/' },
        codeDigest: late,
        jobs: [makeSpec('train')],
      }).then(() => order.push('submission answered'));
      await remove(digest);
    };
    const pruned = await prune(engine, 0).then((result) => (order.push('prune done'), result));
    await submitted;
    expect(order).toEqual(['submission answered', 'prune done']);
    expect(pruned.blobs).toBe(599);
    expect(await engine.blobs.missing(digests)).toEqual(digests.filter((d) => d !== late));
  });

  it('reads the artifact manifests a page at a time, not all of them at once', async () => {
    const executed: string[] = [];
    const { store, engine } = await testApp('prune-artifact-pages', tracedStore(executed));
    const files = [{ path: 'model.bin', size: 1, mode: 0o644, digest: 'd'.repeat(64) }];
    for (let i = 0; i < 1200; i++) {
      const run = makeRun(`kept-${i}`, { submittedAt: Date.now() });
      const id = i.toString(16).padStart(12, '0');
      await store.createRun(run, [makeJob(run, 'train', { id, status: 'DONE' })], 'test');
      await store.setArtifacts(id, { artifacts: [{ path: 'model.bin', files }] });
    }
    executed.length = 0;
    expect((await prune(engine, 3600_000)).runs).toEqual([]);
    const reads = executed.filter((sql) => /^select .* from "artifacts"/.test(sql));
    expect(reads.length).toBe(4); // 500, 500, 200, and the empty page after them
    for (const sql of reads) expect(sql).toMatch(/ limit 500(\.0)?$/);
  });
});
