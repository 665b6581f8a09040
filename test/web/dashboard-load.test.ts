/**
 * The first page stays small with a full database: 1,000 runs (3 jobs each) in the embedded
 * server's SQLite, then the runs page opened in a fresh browser. It asks for one page of the
 * newest runs, never the whole database. How long it takes is printed, not asserted: timings
 * belong to bench/, not to tests.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/server/store/sqlite.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { Sandbox } from '../e2e/harness.js';
import { launchChromium, type TestBrowser } from './browser.js';

const RUNS = 1000;

/** Finished runs straight into the store, before its server starts (submitting them would run them). */
async function seed(dbPath: string): Promise<void> {
  const store = await openSqliteStore(dbPath);
  const start = Date.now() - RUNS * 60_000;
  for (let i = 0; i < RUNS; i++) {
    const run = makeRun(`seeded-run-${i}`, { user: 'admin', workflow: 'evaluate', submittedAt: start + i * 60_000 });
    const jobs = ['prepare', 'train', 'evaluate'].map((ref, k) =>
      makeJob(run, ref, {
        id: (i * 3 + k).toString(16).padStart(12, '0'),
        spec: makeSpec(ref, { variables: { seed: String(i) } }),
        status: i % 10 === 0 ? 'FAILED' : 'DONE',
        startedAt: run.submittedAt + 1000,
        finishedAt: run.submittedAt + 30_000,
      }),
    );
    await store.createRun(run, jobs, 'admin');
  }
  await store.close();
}

describe('the runs page with 1,000 runs in the database', () => {
  let sb: Sandbox;
  let chrome: TestBrowser;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await seed(join(sb.home, 'server', 'dstack.db'));
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await chrome?.close();
    await sb?.dispose();
  });

  it('shows a page of the newest 50, asking only for pages, and 50 more on request', async () => {
    const r = await sb.dstack(['dashboard', '--no-open']);
    expect(r.code).toBe(0);
    const link = /log in with this link[^:]*: (\S+)/.exec(r.stdout)![1]!;
    const page = await chrome.context.newPage();
    await page.goto('about:blank'); // the browser's own start-up is not the dashboard's
    const started = Date.now();
    await page.goto(link);
    await page.locator('tbody tr').first().waitFor();
    const elapsed = Date.now() - started;
    // The page's own clock starts at navigation: what a person waits for, without the test's overhead.
    const inPage = await page.evaluate(() => ({
      shown: Math.round(performance.now()),
      runs: performance
        .getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname === '/api/runs')
        .map((e) => ({ query: new URL(e.name).search, ms: Math.round(e.duration) })),
    }));
    console.log(
      `first page with ${RUNS} runs: rows shown ${inPage.shown} ms after navigation ` +
        `(${elapsed} ms as the test saw it; GET /api/runs took ${inPage.runs.map((r) => r.ms).join(', ')} ms)`,
    );
    // Every request for runs asks for a page (last=N), and one of them for the 50 shown.
    const queries = inPage.runs.map((r) => r.query);
    expect(queries).toContain('?last=50');
    for (const query of queries) expect(query).toMatch(/^\?last=([1-9]|[1-4][0-9]|50)$/);
    // A page of the newest, not the whole database.
    expect(await page.locator('tbody tr').count()).toBe(50);
    expect(await page.locator('tbody tr').first().getAttribute('data-run')).toBe(`seeded-run-${RUNS - 1}`);
    await page.getByRole('button', { name: 'Show 50 more' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(100);
  });
});
