/**
 * The submitted Slurm jobs: kept in the database, so that a server on a new data folder with
 * the same database goes on tracking them; an older version's jobs.json moves in at the start.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrackedJobs } from '../../../src/server/backends/slurm/tracked-jobs.js';
import { openSqliteStore } from '../../../src/server/store/sqlite.js';
import { seedRun } from '../../store/fixtures.js';

async function setUp() {
  const dir = await mkdtemp(join(tmpdir(), 'dstack-slurm-'));
  const store = await openSqliteStore(join(dir, 'dstack.db'));
  const { jobs } = await seedRun(store, 'calm-owl-1', ['a', 'b']);
  return { dir, store, a: jobs[0]!.id, b: jobs[1]!.id };
}

describe('tracked Slurm jobs', () => {
  it('keeps what was submitted in the database across a reopen (a restart, on any data folder)', async () => {
    const { store, a, b } = await setUp();
    const jobs = await TrackedJobs.open(store, 'slurm');
    await jobs.put({ jobId: a, slurmId: '12', submittedAt: 1 });
    await jobs.put({ jobId: b, slurmId: '13', submittedAt: 2 });
    await jobs.put({ jobId: a, slurmId: '12', submittedAt: 1, dir: '/w/a/1', termAt: 5 });
    expect(await jobs.remove(b, '13')).toBe(true);
    // A record replaced by a later submission of the job stays.
    expect(await jobs.remove(a, '11')).toBe(false);
    const again = await TrackedJobs.open(store, 'slurm');
    expect(again.all()).toEqual([{ jobId: a, slurmId: '12', submittedAt: 1, dir: '/w/a/1', termAt: 5 }]);
    // Another backend's jobs are its own.
    expect((await TrackedJobs.open(store, 'gpu-cluster')).all()).toEqual([]);
    await store.close();
  });

  it("moves an older version's jobs.json into the database, then removes the file", async () => {
    const { dir, store, a } = await setUp();
    const file = join(dir, 'slurm', 'jobs.json');
    await mkdir(join(dir, 'slurm'));
    const legacy = [
      { jobId: a, slurmId: '12', submittedAt: 1, endedAt: 9 },
      { jobId: 'pruned-1-x', slurmId: '14', submittedAt: 3 },
    ];
    await writeFile(file, JSON.stringify({ version: 1, jobs: legacy }));
    const jobs = await TrackedJobs.open(store, 'slurm', file);
    expect(jobs.all()).toEqual([legacy[0]]);
    expect(existsSync(file)).toBe(false);
    expect((await TrackedJobs.open(store, 'slurm', file)).all()).toEqual([legacy[0]]);
    await store.close();
  });

  it('refuses a jobs.json it did not write, naming it, and leaves it be', async () => {
    const { dir, store } = await setUp();
    const file = join(dir, 'jobs.json');
    await writeFile(file, '{"jobs": 3}');
    await expect(TrackedJobs.open(store, 'slurm', file)).rejects.toThrow(
      `${file} is not a list of Slurm jobs dstack wrote`,
    );
    expect(await readFile(file, 'utf8')).toBe('{"jobs": 3}');
    await store.close();
  });
});
