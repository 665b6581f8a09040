/**
 * `GET /api/runs` narrows the runs by workflow and status before it takes the newest `last`,
 * so the dashboard's filters find old runs on their first page, and a larger `last` pages on
 * within them. Through the real app over a real SQLite store holding a long history.
 */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/core/job-status.js';
import type { RunView } from '../../src/core/records.js';
import { issueToken } from '../../src/server/auth.js';
import { makeJob, makeRun, PROJECT } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';

/** 6 old `train` runs that FAILED, then 150 newer `eval` runs, DONE but the newest, RUNNING; a `train` and a `deploy` of bob's. */
async function history() {
  const { store, app } = await testApp('runs-filter');
  const add = async (name: string, workflow: string, status: JobStatus, at: number, user = 'u') => {
    const run = makeRun(name, { workflow, submittedAt: at, user });
    await store.createRun(run, [makeJob(run, workflow, { status })], user);
  };
  for (let i = 1; i <= 6; i++) await add(`old-train-${i}`, 'train', 'FAILED', i);
  for (let i = 1; i <= 150; i++) await add(`new-eval-${i}`, 'eval', i === 150 ? 'RUNNING' : 'DONE', 100 + i);
  await add('bob-train-1', 'train', 'FAILED', 1000, 'bob');
  await add('bob-deploy-1', 'deploy', 'DONE', 999, 'bob');
  const token = await issueToken(store, 'user', 'u', false);
  const admin = await issueToken(store, 'user', 'root', true);
  const names = async (query: string, as = token) => {
    const { status, json } = await callApi(app, as, 'GET', `/api/runs?${query}`);
    expect(status, JSON.stringify(json)).toBe(200);
    return (json as unknown as RunView[]).map((r) => r.name);
  };
  return { app, token, admin, names };
}

const trains = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => `old-train-${from - i}`);

describe('GET /api/runs with filters', () => {
  it('returns the newest runs of a workflow or status however many newer runs others are', async () => {
    const { names } = await history();
    expect(await names('last=50&workflow=train')).toEqual(trains(6, 1));
    expect(await names('last=50&status=FAILED')).toEqual(trains(6, 1));
    expect(await names('last=50&status=RUNNING')).toEqual(['new-eval-150']);
    expect(await names('last=50&workflow=train&status=DONE')).toEqual([]);
    // Unfiltered, the first page holds none of them.
    expect((await names('last=50')).filter((n) => n.startsWith('old-'))).toEqual([]);
  });

  it('pages within the filter: a larger last returns the same runs and the next ones', async () => {
    const { names } = await history();
    expect(await names('last=4&workflow=train&status=FAILED')).toEqual(trains(6, 3));
    expect(await names('last=8&workflow=train&status=FAILED')).toEqual(trains(6, 1));
    const done = await names('last=50&status=DONE');
    expect(done).toEqual(Array.from({ length: 50 }, (_, i) => `new-eval-${149 - i}`));
    expect((await names('last=100&status=DONE')).slice(0, 50)).toEqual(done);
  });

  it("an admin's filtered runs are every user's, unless mine", async () => {
    const { admin, names } = await history();
    expect(await names('last=3&workflow=train', admin)).toEqual(['bob-train-1', ...trains(6, 5)]);
    expect(await names('last=3&workflow=train&mine=1', admin)).toEqual([]);
  });

  it("GET /api/workflows offers every workflow the caller's runs have, old ones too; an admin's, everyone's unless mine", async () => {
    const { app, token, admin } = await history();
    const workflows = async (path: string, as: string) => (await callApi(app, as, 'GET', path)).json;
    expect(await workflows('/api/workflows', token)).toEqual([
      { project: PROJECT, workflow: 'eval' },
      { project: PROJECT, workflow: 'train' },
    ]);
    expect(await workflows('/api/workflows', admin)).toEqual([
      { project: PROJECT, workflow: 'deploy' },
      { project: PROJECT, workflow: 'eval' },
      { project: PROJECT, workflow: 'train' },
    ]);
    expect(await workflows('/api/workflows?mine=1', admin)).toEqual([]);
  });

  it('refuses a status that is not one, saying which are', async () => {
    const { app, token } = await history();
    const { status, json } = await callApi(app, token, 'GET', '/api/runs?last=5&status=failed');
    expect(status).toBe(400);
    expect((json.error as { message: string }).message).toMatch(/^invalid request: status: .*"FAILED"/);
  });
});
