/**
 * A run's Resume dialog, in a real browser against the embedded server, names the jobs the
 * resume takes and those it leaves with why, as `dstack resume RUN` then does and says.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil, type Sandbox } from '../e2e/harness.js';
import { closeDashboard, dashboardSandbox, type TestBrowser } from './browser.js';

const WORKFLOWS = `workflows:
  - name: slow
    commands: [sleep 120]
  - name: flaky
    commands: [sleep 2, exit 3]
  - name: after
    depends-on: [flaky]
    commands: [echo after]
  - name: pipeline
    depends-on: [slow, after]
    commands: [echo done]
`;

describe("a run's Resume dialog", () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let page: Page;

  beforeAll(async () => {
    ({ sb, chrome, url, page } = await dashboardSandbox((s) => s.write({ '.dstack/workflows.yaml': WORKFLOWS })));
  }, 60_000);
  afterAll(() => closeDashboard(sb, chrome));

  it('lists the jobs it resumes and those it leaves, with why, as dstack resume does', async () => {
    const name = (await sb.dstack(['run', 'pipeline', '-d'])).stdout.trim();
    const byRef = async () => new Map((await sb.runView(name)).jobs.map((j) => [j.ref, j]));
    // `after` stopped while it waits (pipeline with it), then `flaky` fails: `after` could resume by
    // itself, but its dependency has ended for good; then the run is stopped (`slow`).
    const after = (await byRef()).get('after')!;
    expect((await sb.dstack(['stop', after.id])).code).toBe(0);
    await waitUntil(async () => (await byRef()).get('flaky')!.status === 'FAILED', 20_000);
    expect((await sb.dstack(['stop', name])).code).toBe(0);
    const jobs = await byRef();
    await sb.ended(name);
    const [slow, flaky, pipeline] = [jobs.get('slow')!, jobs.get('flaky')!, jobs.get('pipeline')!];

    await page.goto(`${url}/runs/${name}`);
    await page.getByRole('button', { name: 'Resume' }).and(page.locator(':enabled')).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Resumes (1)' }).waitFor();
    expect(await dialog.locator('ul.resumes li').allTextContents()).toEqual([`slow (${slow.id}) STOPPED`]);
    const left = await dialog.locator('ul.leaves li').allTextContents();
    expect(left).toEqual([
      `flaky (${flaky.id}) FAILED: it FAILED (exit code 3): only a stopped job resumes, or one whose resume failed ` +
        'before its commands started; run the workflow again with dstack run flaky',
      `after (${after.id}) STOPPED: its dependency flaky (${flaky.id}) is FAILED; run the workflow again with dstack run after`,
      `pipeline (${pipeline.id}) STOPPED: its dependency after (${after.id}) is STOPPED; run the workflow again with dstack run pipeline`,
    ]);
    await dialog.getByRole('heading', { name: 'Leaves as they ended (3)' }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // What `dstack resume` does: takes `slow`, and says it leaves `after` and `pipeline` for the same reasons.
    const resumed = await sb.dstack(['resume', name]);
    expect(resumed.stdout).toBe(`${slow.id} slow SUBMITTED\n`);
    for (const line of left.slice(1)) {
      const [, ref, id, status, why] = /^(\S+) \((\S+)\) (\S+): (.*)$/.exec(line)!;
      expect(resumed.stderr).toContain(`not resumed: ${id} ${ref} ${status}: ${why}\n`);
    }
    expect((await sb.dstack(['stop', name])).code).toBe(0);
  });
});
