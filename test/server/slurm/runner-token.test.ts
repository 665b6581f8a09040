/**
 * The Slurm runner's token across starts: the same data folder keeps it; a new one (same
 * database) gets another for its submissions while the old one stays valid for the batch jobs
 * that hold it, and is revoked once every job tracked at that start has ended.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../../src/server/auth.js';
import { RetiredTokens, ensureRunnerToken } from '../../../src/server/backends/slurm/runner-token.js';
import { TrackedJobs } from '../../../src/server/backends/slurm/tracked-jobs.js';
import { openSqliteStore } from '../../../src/server/store/sqlite.js';
import { seedRun } from '../../store/fixtures.js';

describe("the Slurm runner's token", () => {
  it('survives a start on a new data folder: the old token stays valid until the jobs tracked then end', async () => {
    const base = await mkdtemp(join(tmpdir(), 'dstack-slurm-token-'));
    const store = await openSqliteStore(join(base, 'dstack.db'));
    const { jobs } = await seedRun(store, 'calm-owl-1', ['train']);
    const id = jobs[0]!.id;
    const oldFile = join(base, 'data-1', 'slurm', 'runner-token');
    const first = await ensureRunnerToken(store, 'slurm', oldFile);
    expect(first.others).toEqual([]);
    expect((await readFile(oldFile, 'utf8')).trim()).toBe(first.token);
    // A restart on the same folder: the same token, nothing retired.
    expect(await ensureRunnerToken(store, 'slurm', oldFile)).toEqual(first);

    // A batch job holds the token; the server moves to a new data folder.
    const tracked = await TrackedJobs.open(store, 'slurm');
    await tracked.put({ jobId: id, slurmId: '12', submittedAt: 1 });
    const newFile = join(base, 'data-2', 'slurm', 'runner-token');
    const moved = await ensureRunnerToken(store, 'slurm', newFile);
    expect(moved.token).not.toBe(first.token);
    expect((await readFile(newFile, 'utf8')).trim()).toBe(moved.token);
    expect(moved.others).toEqual([hashToken(first.token)]);
    const reopened = await TrackedJobs.open(store, 'slurm');
    const retired = new RetiredTokens(store, moved.others, reopened);
    expect(await retired.settle()).toBe(0);
    expect(await store.findToken(hashToken(first.token))).toMatchObject({ kind: 'runner', name: 'slurm' });

    // A job submitted since holds the new token and does not keep the old one valid.
    await reopened.put({ jobId: id, slurmId: '13', submittedAt: 2 });
    expect(await retired.settle()).toBe(1);
    expect(await store.findToken(hashToken(first.token))).toBeUndefined();
    expect(await store.findToken(hashToken(moved.token))).toMatchObject({ kind: 'runner', name: 'slurm' });
    expect(await retired.settle()).toBe(0);
    await store.close();
  });

  it('revokes the older tokens at once when no job was tracked at the start', async () => {
    const base = await mkdtemp(join(tmpdir(), 'dstack-slurm-token-'));
    const store = await openSqliteStore(join(base, 'dstack.db'));
    const old = await ensureRunnerToken(store, 'slurm', join(base, 'data-1', 'runner-token'));
    const moved = await ensureRunnerToken(store, 'slurm', join(base, 'data-2', 'runner-token'));
    const retired = new RetiredTokens(store, moved.others, await TrackedJobs.open(store, 'slurm'));
    expect(await retired.settle()).toBe(1);
    expect(await store.findToken(hashToken(old.token))).toBeUndefined();
    await store.close();
  });
});
