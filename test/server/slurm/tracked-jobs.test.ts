/** The submitted jobs' file: durable across restarts, and refused when it is not dstack's. */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrackedJobs } from '../../../src/server/backends/slurm/tracked-jobs.js';

describe('tracked Slurm jobs', () => {
  it('keeps what was submitted across a reopen (a server restart), in a 0600 file', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'dstack-slurm-')), 'slurm', 'jobs.json');
    const jobs = await TrackedJobs.open(file);
    await jobs.put({ jobId: 'aaaaaaaaaaaa', slurmId: '12', submittedAt: 1 });
    await jobs.put({ jobId: 'bbbbbbbbbbbb', slurmId: '13', submittedAt: 2 });
    await jobs.put({ jobId: 'aaaaaaaaaaaa', slurmId: '12', submittedAt: 1, termAt: 5 });
    expect(await jobs.remove('bbbbbbbbbbbb', '13')).toBe(true);
    // A record replaced by a later submission of the job stays.
    expect(await jobs.remove('aaaaaaaaaaaa', '11')).toBe(false);
    const again = await TrackedJobs.open(file);
    expect(again.all()).toEqual([{ jobId: 'aaaaaaaaaaaa', slurmId: '12', submittedAt: 1, termAt: 5 }]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a file it did not write, naming it', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'dstack-slurm-')), 'jobs.json');
    await writeFile(file, '{"jobs": 3}');
    await expect(TrackedJobs.open(file)).rejects.toThrow(`${file} is not a list of Slurm jobs dstack wrote`);
    expect(await readFile(file, 'utf8')).toBe('{"jobs": 3}');
  });
});
