/**
 * A job page left open while its job is stopped and resumed, in a real browser against the
 * embedded server: once the job goes on, the log follows it again, with no line lost or doubled
 * and no reload.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil, type Sandbox } from '../e2e/harness.js';
import { closeDashboard, dashboardSandbox, type TestBrowser } from './browser.js';

const WORKFLOWS = `workflows:
  - name: counter
    commands: ['for i in $(seq 1 25); do echo "line $i"; sleep 0.2; done']
`;

describe('the job page of a stopped and resumed job', () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let page: Page;
  const rowTexts = () => page.locator('.log-text').allTextContents();

  beforeAll(async () => {
    ({ sb, chrome, url, page } = await dashboardSandbox((s) => s.write({ '.dstack/workflows.yaml': WORKFLOWS })));
  }, 60_000);
  afterAll(() => closeDashboard(sb, chrome));

  it('follows the log again once the job is resumed, every line once', async () => {
    const r = await sb.dstack(['run', 'counter', '-d']);
    const name = r.stdout.trim();
    const job = (await sb.runView(name)).jobs[0]!;
    await page.goto(`${url}/jobs/${job.id}`);
    await page.locator('.stream-state', { hasText: 'following live' }).waitFor();
    await page.locator('.log-text', { hasText: /^line 4$/ }).waitFor();

    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
    await page.locator('h1 .status-stopped').waitFor();
    await page.locator('.stream-state', { hasText: 'finished' }).waitFor();
    const before = (await rowTexts()).length;

    // Resumed from the CLI: the page hears of it only by its poll.
    expect((await sb.dstack(['resume', name])).code).toBe(0);
    await page.locator('.stream-state', { hasText: 'following live' }).waitFor();
    await expect.poll(async () => (await rowTexts()).length).toBeGreaterThan(before + 3);
    await waitUntil(async () => (await sb.runView(name)).status === 'DONE', 30_000);
    await page.locator('h1 .status-done').waitFor();
    await page.locator('.stream-state', { hasText: 'finished' }).waitFor();

    // What the page shows is the log as stored: both attempts, each line once (stdout: bash's
    // "Terminated" of the stop is on stderr, which `dstack logs` prints apart).
    const stored = (await sb.dstack(['logs', job.id])).stdout.split('\n').filter(Boolean);
    expect(stored.filter((l) => l === 'line 25')).toHaveLength(1); // the second attempt ran to the end
    await expect.poll(() => page.locator('.log-line.stdout .log-text').allTextContents()).toEqual(stored);
  });
});
