/**
 * A prune cut off part-way (a crash, a disk error) leaves nothing that a later prune cannot
 * find: log files of deleted runs were left in DATA_DIR/logs for good.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prune } from '../../src/server/prune.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { testApp } from './app-fixture.js';

describe('a prune cut off while deleting logs', () => {
  it('keeps the runs whose logs it had not deleted, and the next prune deletes both', async () => {
    const { dir, store, engine } = await testApp('prune-cut-off');
    const ids = ['aaaaaaaaaaa1', 'aaaaaaaaaaa2', 'aaaaaaaaaaa3'];
    for (const [i, id] of ids.entries()) {
      const run = makeRun(`old-run-${i}`, { submittedAt: 1000 + i });
      await store.createRun(run, [makeJob(run, 'train', { id, status: 'DONE' })], 'test');
      await engine.logs.append(id, [{ seq: 1, ts: 1000, stream: 'stdout', bytes: Buffer.from('epoch 1') }]);
    }
    const logs = () => readdir(join(dir, 'logs')).then((names) => names.filter((n) => n.endsWith('.log')).sort());
    expect(await logs()).toEqual(ids.map((id) => `${id}.log`));

    const remove = engine.logs.delete.bind(engine.logs);
    let removed = 0;
    engine.logs.delete = async (jobId) => {
      if (++removed === 2) throw new Error('EIO: the disk failed');
      await remove(jobId);
    };
    await expect(prune(engine, 0)).rejects.toThrow('EIO: the disk failed');
    expect((await store.listRuns({})).length).toBe(3);

    engine.logs.delete = remove;
    expect((await prune(engine, 0)).runs).toHaveLength(3);
    expect(await store.listRuns({})).toEqual([]);
    expect(await logs()).toEqual([]);
  });
});
