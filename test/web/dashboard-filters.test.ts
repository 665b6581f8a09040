/**
 * The runs' filters are the server's: with 300 runs in the database, a workflow only old runs
 * have is offered and found on the first page, "Show 50 more" pages on within the filter, the
 * filters stay in the address through Back and reload, and a filter matching nothing says so.
 * In a real browser against the embedded server, its SQLite seeded before it starts.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/core/job-status.js';
import { openSqliteStore } from '../../src/server/store/sqlite.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import type { Sandbox } from '../e2e/harness.js';
import { closeDashboard, dashboardSandbox, type TestBrowser } from './browser.js';

const TRAINS = 55;
const EVALS = 245;

/** 55 old `train` runs, every 3rd FAILED, the rest DONE; then 245 newer `evaluate` runs, DONE. */
async function seed(dbPath: string): Promise<void> {
  const store = await openSqliteStore(dbPath);
  const start = Date.now() - (TRAINS + EVALS) * 60_000;
  const add = async (name: string, workflow: string, status: JobStatus, i: number) => {
    const run = makeRun(name, { user: 'admin', workflow, submittedAt: start + i * 60_000 });
    const id = i.toString(16).padStart(12, '0');
    await store.createRun(run, [makeJob(run, workflow, { id, status })], 'admin');
  };
  for (let i = 0; i < TRAINS; i++) await add(`old-train-${i}`, 'train', i % 3 === 0 ? 'FAILED' : 'DONE', i);
  for (let i = 0; i < EVALS; i++) await add(`new-evaluate-${i}`, 'evaluate', 'DONE', TRAINS + i);
  await store.close();
}

describe("the runs' filters with a long history", () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let page: Page;
  const rows = (tab: Page) => tab.locator('tbody tr[data-run]');
  const names = () => rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')));

  beforeAll(async () => {
    ({ sb, chrome, url, page } = await dashboardSandbox((s) => seed(join(s.home, 'server', 'dstack.db'))));
  }, 60_000);
  afterAll(() => closeDashboard(sb, chrome));

  it('finds the runs of a workflow only old runs have on the first page, and pages on within it', async () => {
    await page.locator('tr[data-run="new-evaluate-244"]').waitFor();
    expect(await rows(page).count()).toBe(50);

    await page.getByLabel('workflow').selectOption('train');
    expect(page.url()).toBe(`${url}/?workflow=train`);
    await page.locator('tr[data-run="old-train-54"]').waitFor();
    const newest = Array.from({ length: TRAINS }, (_, i) => `old-train-${TRAINS - 1 - i}`);
    expect(await names()).toEqual(newest.slice(0, 50));

    await page.getByRole('button', { name: 'Show 50 more' }).click();
    await page.locator('tr[data-run="old-train-0"]').waitFor();
    expect(await names()).toEqual(newest);
    expect(await page.getByRole('button', { name: 'Show 50 more' }).count()).toBe(0);
  });

  it('narrows by status on the server too, and keeps both filters through a run, Back and reload', async () => {
    await page.goto(`${url}/?workflow=train`);
    await page.getByLabel('status').selectOption('FAILED');
    expect(page.url()).toBe(`${url}/?workflow=train&status=FAILED`);
    const failed = Array.from({ length: TRAINS }, (_, i) => TRAINS - 1 - i)
      .filter((i) => i % 3 === 0)
      .map((i) => `old-train-${i}`);
    await page.locator(`tr[data-run="${failed[0]}"]`).waitFor();
    await expect.poll(names).toEqual(failed);

    await page.getByRole('link', { name: failed[1] }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.goBack();
    await page.locator(`tr[data-run="${failed[0]}"]`).waitFor();
    expect(page.url()).toBe(`${url}/?workflow=train&status=FAILED`);
    expect(await page.getByLabel('workflow').inputValue()).toBe('train');
    expect(await page.getByLabel('status').inputValue()).toBe('FAILED');
    expect(await names()).toEqual(failed);

    await page.reload();
    await page.locator(`tr[data-run="${failed[0]}"]`).waitFor();
    expect(await page.getByLabel('status').inputValue()).toBe('FAILED');
    expect(await names()).toEqual(failed);
  });

  it('says that no run matches a filter that matches none', async () => {
    await page.goto(`${url}/?workflow=evaluate`);
    await page.locator('tr[data-run="new-evaluate-244"]').waitFor();
    await page.getByLabel('status').selectOption('FAILED');
    await page.getByText('No run matches status failed, workflow evaluate.').waitFor();
    expect(await rows(page).count()).toBe(0);
    expect(await page.getByText('No runs yet').count()).toBe(0);
  });
});
