/**
 * What a daily user of the dashboard ran into, in a real browser against the embedded server:
 * a job waiting on its dependencies says so (as `dstack status` does).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../e2e/harness.js';
import { launchChromium, openDashboard, type TestBrowser } from './browser.js';

const WORKFLOWS = `workflows:
  - name: hello
    commands: [echo hi]
  - name: slow
    commands: [sleep 120]
  - name: after
    depends-on: [slow]
    commands: [echo after]
`;

describe('the dashboard as a daily user meets it', () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let page: Page;
  const runOf = async (workflow: string) => {
    const r = await sb.dstack(['run', workflow, '-d']);
    expect(r.stderr).toBe('');
    return r.stdout.trim();
  };
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    chrome = await launchChromium();
    ({ url, page } = await openDashboard(sb, chrome));
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await sb?.dispose();
  });

  it('says that a job waits for its dependencies, on the run page and on the job page', async () => {
    const name = await runOf('after');
    const after = (await sb.runView(name)).jobs.find((j) => j.workflow === 'after')!;
    await page.goto(`${url}/runs/${name}`);
    const row = page.locator(`tr[data-job="${after.id}"]`);
    await row.getByText('waiting for slow').waitFor();
    expect(await row.locator('td').nth(3).textContent()).toBe('waiting for slow');

    await page.goto(`${url}/jobs/${after.id}`);
    await expect(page.locator('p.reason').textContent()).resolves.toBe('waiting for slow');
    expect((await sb.dstack(['stop', name])).code).toBe(0);
  });
});
