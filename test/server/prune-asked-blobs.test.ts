/**
 * A prune between a `dstack run`'s upload plan and its submission: the plan said the code's
 * blobs were stored (an old run's, about to be pruned), so the CLI did not send them. The
 * prune must leave them, or the run is accepted with code no runner can restore.
 */
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobPath } from '../../src/files/blob-path.js';
import { askedSince, noteAsked } from '../../src/server/asked-blobs.js';
import { issueToken } from '../../src/server/auth.js';
import { prune } from '../../src/server/prune.js';
import { submitRun } from '../../src/server/submit.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';
import { putBlob } from './engine-fixture.js';

describe('prune during a submission', () => {
  it('keeps the old blobs an upload plan said were stored, and deletes those nobody asked about', async () => {
    const { dir, store, engine, app } = await testApp('prune-asked-blobs');
    const alice = await issueToken(store, 'user', 'alice', false);
    const source = await putBlob(engine, 'print("train")');
    const files = [{ path: 'train.py', size: 14, mode: 0o644, digest: source }];
    const code = await putBlob(engine, JSON.stringify({ files }));
    const orphan = await putBlob(engine, 'the output of a run pruned long ago');
    const old = new Date(Date.now() - 2 * 3600_000); // older than the hour in which blobs stay
    for (const digest of [source, code, orphan]) await utimes(blobPath(join(dir, 'blobs'), digest), old, old);
    // Last week's run of the same code: the only one that names it, and prune's to delete.
    const lastWeek = makeRun('last-week-1', { codeDigest: code, submittedAt: 1000, user: 'alice' });
    await store.createRun(lastWeek, [makeJob(lastWeek, 'train', { id: 'aaaaaaaaaaaa', status: 'DONE' })], 'test');

    const plan = await callApi(app, alice, 'POST', '/api/blobs/uploads', {
      blobs: [
        { digest: source, size: 14 },
        { digest: code, size: 0 },
      ],
    });
    expect(plan).toMatchObject({ status: 200, json: { missing: [] } });
    const pruned = await prune(engine, 0);
    expect(pruned).toMatchObject({ runs: ['last-week-1'], blobs: 1 });
    expect(await engine.blobs.missing([source, code, orphan])).toEqual([orphan]);

    const run = await submitRun(engine, 'alice', {
      workflow: 'train',
      overrides: {},
      repo: { root: '/' },
      codeDigest: code,
      jobs: [makeSpec('train', { artifacts: [] })],
    });
    expect(run.codeDigest).toBe(code);
    expect(await engine.blobs.missing([source, code])).toEqual([]);
  });

  it('forgets what was asked over an hour before the latest plan', async () => {
    const { engine } = await testApp('prune-asked-blobs-expiry');
    const now = Date.now();
    noteAsked(engine.blobs, ['a'.repeat(64)], now - 2 * 3600_000);
    noteAsked(engine.blobs, ['b'.repeat(64)], now - 30 * 60_000);
    noteAsked(engine.blobs, ['c'.repeat(64)], now);
    expect(askedSince(engine.blobs, 'a'.repeat(64), 0)).toBe(false);
    expect(askedSince(engine.blobs, 'b'.repeat(64), now - 3600_000)).toBe(true);
    expect(askedSince(engine.blobs, 'b'.repeat(64), now - 60_000)).toBe(false);
    expect(askedSince(engine.blobs, 'c'.repeat(64), now - 60_000)).toBe(true);
  });
});
