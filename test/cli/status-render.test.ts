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

  it("quotes a variable's value that holds spaces, as a shell would need it", () => {
    const run = makeRun('calm-owl-1', { submittedAt: 0, overrides: { epochs: '3 --lr 9', lr: '0.1' } });
    const view: RunView = { ...run, status: 'DONE', jobs: [] };
    expect(renderStatus([view], { project: '', now: 0 })).toContain("--epochs '3 --lr 9' --lr 0.1");
  });

  it("names each run's user once the runs are not all one user's (an admin's --all)", () => {
    const view = (name: string, user: string): RunView => ({
      ...makeRun(name, { submittedAt: 0, user, tag: 'best' }),
      status: 'DONE',
      jobs: [],
    });
    const both = renderStatus([view('swift-shark-1', 'bob'), view('keen-frog-1', 'alice')], { now: 0 }).split('\n');
    expect(both[0]).toMatch(/^RUN\s+USER\s+PROJECT\s+TAG\s/);
    expect(both.find((r) => r.startsWith('swift-shark-1'))).toMatch(/^swift-shark-1\s+bob\s/);
    expect(both.find((r) => r.startsWith('keen-frog-1'))).toMatch(/^keen-frog-1\s+alice\s/);
    const one = renderStatus([view('swift-shark-1', 'bob')], { now: 0 });
    expect(one).not.toContain('USER');
  });

  it('shows the tag promised to an unfinished run as its TAG, marked, and none once it finished without it', () => {
    const run = makeRun('calm-owl-1', { submittedAt: 0, tagOnDone: 'pend' });
    const tagOf = (status: 'RUNNING' | 'FAILED') => {
      const job = makeJob(run, 'train', { id: 'aaaaaaaaaaaa', status });
      const rows = renderStatus([{ ...run, status, jobs: [job] }], { project: '', now: 0 }).split('\n');
      return rows[1]!.replace(/^calm-owl-1\s+/, '').split(/\s{2,}/)[0];
    };
    expect(tagOf('RUNNING')).toBe('pend (when DONE)');
    expect(tagOf('FAILED')).toBe('<none>');
  });

  it("shows a job's reason and a workflow's name with their control characters escaped, one row each", () => {
    const run = makeRun('calm-owl-1', { submittedAt: 0 });
    const job = makeJob(run, 'odd\tname', { id: 'aaaaaaaaaaaa', status: 'FAILED', reason: 'saw \x1b[2J\nthen' });
    const rows = renderStatus([{ ...run, status: 'FAILED', jobs: [job] }], { project: '', now: 0 }).split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatch(/aaaaaaaaaaaa\s+odd\\tname\s.*FAILED saw \\x1b\[2J\\nthen$/);
  });
});

describe('renderStatus with nothing to show', () => {
  it('says no run matched --workflow or --status, not that the project has no runs yet', () => {
    expect(renderStatus([], { project: '/p', narrowed: "of workflow 'nope' with status FAILED" })).toBe(
      "No runs of workflow 'nope' with status FAILED in project /p ('dstack status --last 10' lists its latest runs, " +
        "'dstack status --all' every project's).",
    );
    expect(renderStatus([], { narrowed: 'with status FAILED' })).toBe('No runs with status FAILED.');
  });

  it('says a project without runs has none yet', () => {
    expect(renderStatus([], { project: '/p' })).toMatch(/^No runs in project \/p yet /);
  });
});
