/**
 * A user's `dstack prune` deletes only that user's runs, and keeps those another user's kept
 * run still needs: bob's tagged run reuses alice's `prepare` through the cache.
 */
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/core/job-spec.js';
import { blobPath } from '../../src/files/blob-path.js';
import { issueToken } from '../../src/server/auth.js';
import { submitRun } from '../../src/server/submit.js';
import { makeSpec } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';
import { finish, putBlob } from './engine-fixture.js';

const spec = (ref: string, fields: Partial<JobSpec> = {}): JobSpec => makeSpec(ref, { artifacts: [], ...fields });

describe("a non-admin's prune", () => {
  it("keeps the caller's run whose job another user's tagged run reuses, with its log, artifacts and blobs", async () => {
    const { dir, store, engine, app } = await testApp('prune-users');
    const alice = await issueToken(store, 'user', 'alice', false);
    const codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
    const request = (jobs: JobSpec[]) => ({
      workflow: jobs.at(-1)!.ref,
      overrides: {},
      repo: { root: '/' },
      codeDigest,
      jobs,
    });
    const train = (lr: string) => [
      spec('prepare', { artifacts: ['data'] }),
      spec('train', { commands: [`python train.py --lr ${lr}`], dependsOn: [{ ref: 'prepare' }] }),
    ];

    const aliceRun = await submitRun(engine, 'alice', request(train('1')));
    const [prepare] = aliceRun.jobs;
    for (const job of aliceRun.jobs) await finish(engine, job.id);
    const data = await putBlob(engine, 'prepared data');
    await engine.store.setArtifacts(prepare!.id, {
      artifacts: [{ path: 'data', files: [{ path: 'data/x', size: 13, mode: 0o644, digest: data }] }],
    });
    await engine.logs.append(prepare!.id, [
      { seq: 1, ts: Date.now(), stream: 'stdout', bytes: Buffer.from('prepared') },
    ]);

    const bobRun = await submitRun(engine, 'bob', request(train('2')));
    expect(bobRun.jobs.map((j) => [j.ref, j.cachedFrom ?? null])).toEqual([
      ['prepare', prepare!.id],
      ['train', null],
    ]);
    await finish(engine, bobRun.jobs[1]!.id);
    await engine.store.setTag(bobRun.name, 'best');
    // Runs of each user that nothing needs: only alice's may go.
    const aliceSolo = await submitRun(engine, 'alice', request([spec('solo')]));
    const bobSolo = await submitRun(engine, 'bob', request([spec('solo', { commands: ['echo bob'] })]));
    for (const run of [aliceSolo, bobSolo]) await finish(engine, run.jobs[0]!.id);
    // Older than the hour in which blobs are never deleted.
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(blobPath(join(dir, 'blobs'), data), old, old);
    await new Promise((r) => setTimeout(r, 5)); // every run submitted before the cutoff of --older-than 0s

    const dry = await callApi(app, alice, 'POST', '/api/prune', { olderThanMs: 0, dryRun: true });
    expect(dry).toMatchObject({ status: 200, json: { runs: [aliceSolo.name], blobs: 0, dryRun: true } });
    // Why her run stays, without naming bob's run that reuses it.
    expect(dry.json).toMatchObject({ keptReused: [{ run: aliceRun.name }], otherUsers: [] });
    expect((dry.json.keptReused as object[])[0]).not.toHaveProperty('by');
    // An admin's prune takes every user's runs: the answer names the users, and the runs that keep others.
    const admin = await issueToken(store, 'user', 'root', true);
    const adminDry = await callApi(app, admin, 'POST', '/api/prune', { olderThanMs: 0, dryRun: true });
    expect(adminDry.json).toMatchObject({
      runs: [bobSolo.name, aliceSolo.name],
      keptReused: [{ run: aliceRun.name, by: bobRun.name }],
      otherUsers: ['alice', 'bob'],
    });
    // Within a project: another project's runs are neither pruned nor counted.
    const elsewhere = await callApi(app, admin, 'POST', '/api/prune', { olderThanMs: 0, dryRun: true, project: '/x' });
    expect(elsewhere.json).toMatchObject({ runs: [], keptReused: [], otherUsers: [], project: '/x' });
    const pruned = await callApi(app, alice, 'POST', '/api/prune', { olderThanMs: 0 });
    expect(pruned).toMatchObject({ status: 200, json: { runs: [aliceSolo.name], blobs: 0, bytes: 0 } });

    expect((await store.listRuns({})).map((r) => r.name).sort()).toEqual(
      [aliceRun.name, bobRun.name, bobSolo.name].sort(),
    );
    expect(await store.getArtifacts(prepare!.id)).toMatchObject({ artifacts: [{ path: 'data' }] });
    expect(await engine.blobs.size(data)).toBe(13);
    expect((await engine.logs.lastSequence(prepare!.id)) > 0).toBe(true);
  });
});
