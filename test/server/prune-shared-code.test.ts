/**
 * Prune on a long history: runs that share their code (re-runs, another variable) keep its
 * blobs while one of them is kept, and their code manifest is read once per prune, not once
 * per run (a minute of the submissions' lock on a server of 100,000 runs).
 */
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/core/errors.js';
import { blobPath } from '../../src/files/blob-path.js';
import { prune } from '../../src/server/prune.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { testApp } from './app-fixture.js';
import { putBlob } from './engine-fixture.js';

describe('prune of many runs sharing their code', () => {
  it("keeps the shared code's blobs for the kept runs, deletes the rest, and reads the code manifest once", async () => {
    const { dir, store, engine } = await testApp('prune-shared-code');
    const source = await putBlob(engine, 'print("train")');
    const code = await putBlob(
      engine,
      JSON.stringify({ files: [{ path: 'train.py', size: 14, mode: 0o644, digest: source }] }),
    );
    const orphan = await putBlob(engine, 'an artifact of a run pruned long ago');
    // Older than the hour in which blobs are never deleted.
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const digest of [source, code, orphan]) await utimes(blobPath(join(dir, 'blobs'), digest), old, old);
    const names = Array.from({ length: 40 }, (_, i) => (i < 20 ? `old-run-${i}` : `new-run-${i}`));
    for (const [i, name] of names.entries()) {
      const run = makeRun(name, { codeDigest: code, submittedAt: name.startsWith('old') ? 1000 : Date.now() });
      await store.createRun(
        run,
        [makeJob(run, 'train', { id: i.toString(16).padStart(12, '0'), status: 'DONE' })],
        'test',
      );
    }
    await store.setTag('old-run-7', 'best');

    const reads: string[] = [];
    const get = engine.blobs.get.bind(engine.blobs);
    engine.blobs.get = (digest) => {
      reads.push(digest);
      return get(digest);
    };
    const dry = await prune(engine, 3600_000, { dryRun: true });
    expect(dry).toMatchObject({ blobs: 1, dryRun: true });
    expect(dry.runs).toHaveLength(19);
    expect(reads.filter((d) => d === code)).toHaveLength(1);

    reads.length = 0;
    const pruned = await prune(engine, 3600_000);
    expect(pruned).toMatchObject({ blobs: 1 });
    expect(pruned.runs).toHaveLength(19);
    expect(reads.filter((d) => d === code)).toHaveLength(1);
    expect((await store.listRuns({})).map((r) => r.name).sort()).toEqual(['old-run-7', ...names.slice(20)].sort());
    expect(await engine.blobs.missing([source, code, orphan])).toEqual([orphan]);
  });

  it("fails, deleting none of a kept run's code, when the storage cannot be read for its manifest", async () => {
    const { dir, store, engine } = await testApp('prune-code-outage');
    const source = await putBlob(engine, 'print("train")');
    const files = [{ path: 'train.py', size: 14, mode: 0o644, digest: source }];
    const code = await putBlob(engine, JSON.stringify({ files }));
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const digest of [source, code]) await utimes(blobPath(join(dir, 'blobs'), digest), old, old);
    const run = makeRun('tagged-run-1', { codeDigest: code, submittedAt: 1000 });
    await store.createRun(run, [makeJob(run, 'train', { id: 'aaaaaaaaaaa1', status: 'DONE' })], 'test');
    await store.setTag(run.name, 'best');

    const get = engine.blobs.get.bind(engine.blobs);
    engine.blobs.get = (digest) =>
      digest === code
        ? Promise.reject(new UnavailableError('a service this server uses is unreachable (S3 timed out)'))
        : get(digest);
    await expect(prune(engine, 0)).rejects.toThrow('a service this server uses is unreachable (S3 timed out)');
    expect(await engine.blobs.missing([source, code])).toEqual([]);
  });
});
