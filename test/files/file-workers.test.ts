/** The worker pool when a worker thread dies under a job: the job fails saying so, and the pool goes on. */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/files/file-workers.js';

const work = await mkdtemp(join(tmpdir(), 'dstack-file-workers-'));
afterAll(() => rm(work, { recursive: true, force: true }));

/** Worker threads as the pool's, each kept here as it starts. */
const started: Worker[] = [];
class Recorded extends Worker {
  constructor(...args: ConstructorParameters<typeof Worker>) {
    super(...args);
    started.push(this);
  }
}

describe('file worker pool', () => {
  it('a worker thread that exits under a job fails that job with its exit code; the next job gets a new worker', async () => {
    const pool = new WorkerPool(Recorded);
    // A job that never ends by itself: hashing a terabyte of /dev/zero, about ten minutes.
    const endless = pool.run({ op: 'hash-file', path: '/dev/zero', size: 1e12 });
    expect(started).toHaveLength(1); // and the job handed to it
    await started[0]!.terminate();
    // Its exit code: 1 when stopped while running JavaScript, 0 when stopped before it began.
    await expect(endless).rejects.toThrow(
      /^internal error \(this is a bug in dstack; please report it with --debug output\): a file worker thread exited \(code [01]\)$/,
    );

    const file = join(work, 'data');
    await writeFile(file, 'after the exit');
    expect(await pool.run({ op: 'hash-file', path: file, size: 14 })).toEqual({
      digest: createHash('sha256').update('after the exit').digest('hex'),
    });
    expect(started).toHaveLength(2);
    await Promise.all(started.map((w) => w.terminate()));
  });
});
