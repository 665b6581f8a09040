/** `dstack status`'s table: what the STATUS column says of a job that waits. */
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/commands/status.js';
import type { RunView } from '../../src/core/records.js';
import { makeJob, makeRun } from '../store/fixtures.js';

describe('renderStatus', () => {
  it('says what a SUBMITTED job waits for: its dependencies, the server’s reason, else a free runner', () => {
    const run = makeRun('calm-owl-1', { submittedAt: 0 });
    const prepare = makeJob(run, 'prepare', { id: 'aaaaaaaaaaaa', status: 'RUNNING' });
    const train = makeJob(run, 'train', { id: 'bbbbbbbbbbbb', dependsOn: [prepare.id] });
    const big = makeJob(run, 'big', { id: 'cccccccccccc', reason: 'no runner has 2 GPUs' });
    const ready = makeJob(run, 'eval', { id: 'dddddddddddd' });
    const view: RunView = { ...run, status: 'RUNNING', jobs: [prepare, train, big, ready] };
    const rows = renderStatus([view], { project: '', now: 0 }).split('\n');
    const statusOf = (id: string) =>
      rows
        .find((r) => r.includes(id))!
        .replace(/^.* (RUNNING|SUBMITTED)/, '$1')
        .trim();
    expect(statusOf(prepare.id)).toBe('RUNNING');
    expect(statusOf(train.id)).toBe('SUBMITTED waiting for prepare');
    expect(statusOf(big.id)).toBe('SUBMITTED no runner has 2 GPUs');
    expect(statusOf(ready.id)).toBe('SUBMITTED waiting for a free runner');
  });
});
