/**
 * A very long log line in a real browser against the embedded server: a 200 KB line (sent by
 * its runner in 64 KiB pieces) is one row, cut after its first characters with a button that
 * shows it whole, and search finds what the cut hides.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import type { Sandbox } from '../e2e/harness.js';
import { closeDashboard, dashboardSandbox, type TestBrowser } from './browser.js';

/** What the log view shows of a long line before "show all" (web/src/components/log-view.tsx, which uses the DOM's types). */
const PREVIEW = 2000;
const WIDE = 200_000;

const WORKFLOWS = `workflows:
  - name: wide
    commands:
      - echo start
      - head -c ${WIDE} /dev/zero | tr '\\0' W; echo END
      - echo after
`;

describe('a very long log line', () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let page: Page;
  let job: JobRecord;

  beforeAll(async () => {
    ({ sb, chrome, url, page } = await dashboardSandbox((s) => s.write({ '.dstack/workflows.yaml': WORKFLOWS })));
    const r = await sb.dstack(['run', 'wide', '-d']);
    job = (await sb.ended(r.stdout.trim())).jobs[0]!;
    expect(job.status).toBe('DONE');
  }, 60_000);
  afterAll(() => closeDashboard(sb, chrome));

  it('is one row, cut after its first characters, shown whole and cut again on request', async () => {
    await page.goto(`${url}/jobs/${job.id}`);
    await page.locator('.stream-state', { hasText: 'finished' }).waitFor();
    const rows = page.locator('.log-line');
    const texts = await page.locator('.log-text').allTextContents();
    expect(texts.slice(0, 3).map((t) => t.slice(0, 10))).toEqual(['start', 'WWWWWWWWWW', 'after']);
    const wide = rows.nth(1);
    const more = wide.getByRole('button', { name: `… show all ${(WIDE + 3).toLocaleString('en-US')} characters` });
    const shown = () => wide.locator('.log-text > span, .log-text > mark').allTextContents();
    expect((await shown()).join('')).toBe('W'.repeat(PREVIEW));

    await more.click();
    await expect.poll(async () => (await shown()).join('').length).toBe(WIDE + 3);
    expect((await shown()).join('').endsWith('WEND')).toBe(true);
    expect(await rows.count()).toBe(texts.length); // still one row
    await wide.getByRole('button', { name: 'show less' }).click();
    await more.waitFor();
    expect((await shown()).join('')).toBe('W'.repeat(PREVIEW));
  });

  it('is found by search, saying how many matches the cut hides', async () => {
    await page.getByLabel('search the log').fill('wend');
    await page.locator('.log-count', { hasText: '1 of' }).waitFor();
    await page
      .locator('.log-line')
      .getByRole('button', { name: `… show all ${(WIDE + 3).toLocaleString('en-US')} characters (1 match further on)` })
      .click();
    await expect(page.locator('.log mark').allTextContents()).resolves.toEqual(['WEND']);
    await page.getByLabel('search the log').fill('');
  });
});
