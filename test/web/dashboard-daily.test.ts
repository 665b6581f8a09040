/**
 * What a daily user of the dashboard ran into, in a real browser against the embedded server:
 * a job waiting on its dependencies says so (as `dstack status` does), a run pruned while its
 * pages are open says it was deleted, the pages fit a phone's width, a job's stop and resume
 * name the jobs waiting on it, a run's promised tag shows, the runs' filters outlast a visit to
 * a run, the graph's boxes hold their text, each tab is named after its run or job and its
 * status, and a server that went away is named with what to do.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../e2e/harness.js';
import { closeDashboard, dashboardSandbox, type TestBrowser } from './browser.js';

const WORKFLOWS = `workflows:
  - name: hello
    commands: [echo hi]
  - name: slow
    commands: [sleep 120]
  - name: after
    depends-on: [slow]
    commands: [echo after]
`;

const PHONE = { width: 390, height: 844 };

/** Evaluated in the page (a string: the tests are compiled without the DOM's types): wider than the window? */
const OVERFLOWS = 'document.documentElement.scrollWidth > window.innerWidth';

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
  const newTab = async (path: string) => {
    const tab = await chrome.context.newPage(); // its session from `page`, over the channel
    tab.setDefaultTimeout(20_000);
    await tab.goto(`${url}${path}`);
    return tab;
  };

  beforeAll(async () => {
    ({ sb, chrome, url, page } = await dashboardSandbox((s) => s.write({ '.dstack/workflows.yaml': WORKFLOWS })));
  }, 60_000);
  afterAll(() => closeDashboard(sb, chrome));

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

  it("replaces a run's and a job's open page with what happened when the run is pruned", async () => {
    const name = await runOf('hello');
    const job = (await sb.ended(name)).jobs[0]!;
    await page.goto(`${url}/runs/${name}`);
    await page.locator(`tr[data-job="${job.id}"]`).getByText('DONE').waitFor();
    const jobTab = await newTab(`/jobs/${job.id}`);
    await jobTab.getByText('1 line', { exact: true }).waitFor(); // "hi", and not "1 lines"

    const pruned = await sb.dstack(['prune', '--older-than', '0s']);
    expect(pruned.stdout).toContain(name);
    const said = (what: string) =>
      `${what} was deleted after this page opened (dstack prune deletes finished runs, with their logs and artifacts).`;
    await expect(page.getByRole('alert').textContent({ timeout: 10_000 })).resolves.toBe(said(`Run ${name}`));
    await expect(jobTab.getByRole('alert').textContent({ timeout: 10_000 })).resolves.toBe(
      said(`Job ${job.id} (of run ${name})`),
    );
    expect(await page.title()).toBe(`${name} deleted · dstack`);
    // Nothing stale is left to act on.
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
    await jobTab.getByRole('link', { name: 'See the runs.' }).click();
    await jobTab.getByRole('heading', { name: 'Runs' }).waitFor();
    await jobTab.close();
  });

  it("fits a phone's width: wide tables scroll in their own box, run names stay on one line", async () => {
    const name = await runOf('after');
    const after = (await sb.runView(name)).jobs.find((j) => j.workflow === 'after')!;
    const phone = await newTab('/');
    await phone.setViewportSize(PHONE);
    await phone.locator(`tr[data-run="${name}"]`).waitFor();
    expect(await phone.evaluate(OVERFLOWS)).toBe(false);
    // One line box: "sharp-crab-1", not "sharp-" "crab-" "1" on three.
    const nameLines = await phone.locator(`tr[data-run="${name}"] a`).evaluate((a) => a.getClientRects().length);
    expect(nameLines).toBe(1);
    const scrolls = await phone.locator('.table-scroll').evaluate((box) => box.scrollWidth > box.clientWidth);
    expect(scrolls).toBe(true);

    for (const path of [`/runs/${name}`, `/jobs/${after.id}`]) {
      await phone.goto(`${url}${path}`);
      await phone.getByRole('heading', { name: 'Variables' }).or(phone.getByText('following live')).first().waitFor();
      expect(await phone.evaluate(OVERFLOWS), path).toBe(false);
    }
    expect((await sb.dstack(['stop', name])).code).toBe(0);
    await phone.close();
  });

  it("names the jobs waiting on a job that the job's stop stops and its resume leaves stopped", async () => {
    const name = await runOf('after');
    const jobs = (await sb.runView(name)).jobs;
    const [slow, after] = [jobs.find((j) => j.workflow === 'slow')!, jobs.find((j) => j.workflow === 'after')!];
    await page.goto(`${url}/jobs/${slow.id}`);
    await page.getByText('following live').waitFor();
    const dialog = page.getByRole('dialog');

    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(dialog.locator('p').first().textContent()).resolves.toBe(
      'Its processes get SIGTERM, then SIGKILL after the grace period; artifacts are saved. ' +
        `The jobs waiting on it stop with it: after (${after.id}). Resume run ${name} to start them all again.`,
    );
    await dialog.getByRole('button', { name: 'Stop' }).click();
    await sb.ended(name);

    await page.getByRole('button', { name: 'Resume' }).and(page.locator(':enabled')).click();
    await expect(dialog.locator('p').first().textContent()).resolves.toBe(
      'The stopped jobs (and those whose resume failed before they started) run again, from their saved artifacts. ' +
        `The jobs waiting on it stay stopped: after (${after.id}). Resume run ${name} to resume them too.`,
    );
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('shows the tag an unfinished run was submitted with as promised, as dstack status does', async () => {
    const r = await sb.dstack(['run', 'slow', '--tag', 'weekly', '-d']);
    expect(r.stderr).toBe('');
    const name = r.stdout.trim();
    await page.goto(`${url}/`);
    const tagCell = page.locator(`tr[data-run="${name}"] td`).nth(2);
    await expect(tagCell.textContent()).resolves.toBe('weekly (when DONE)');
    await page.goto(`${url}/runs/${name}`);
    await page.locator('p.summary').getByText('weekly (when DONE)').waitFor();

    expect((await sb.dstack(['stop', name])).code).toBe(0); // ended STOPPED: no longer to be tagged
    await sb.ended(name);
    await page.goto(`${url}/`);
    await page.locator(`tr[data-run="${name}"]`).getByText('STOPPED').waitFor();
    expect(await tagCell.textContent()).toBe('');
  });

  it("keeps the runs' filters across a visit to a run and Back, and in the address", async () => {
    const name = await runOf('hello');
    await sb.ended(name);
    await page.goto(`${url}/`);
    await page.locator(`tr[data-run="${name}"]`).waitFor();
    const workflows = () => page.locator('tr[data-run] td:nth-child(2)').allTextContents();
    expect(new Set(await workflows()).size).toBeGreaterThan(1);

    await page.getByLabel('workflow').selectOption('hello');
    expect(page.url()).toBe(`${url}/?workflow=hello`);
    // The server answers for the filter: the rows are replaced once it has.
    await expect.poll(async () => new Set(await workflows())).toEqual(new Set(['hello']));
    await page.getByRole('link', { name }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.goBack();
    await page.locator(`tr[data-run="${name}"]`).waitFor();
    expect(await page.getByLabel('workflow').inputValue()).toBe('hello');
    expect(new Set(await workflows())).toEqual(new Set(['hello']));

    await page.getByLabel('workflow').selectOption('');
    expect(page.url()).toBe(`${url}/`);
  });

  it("keeps a job's second line inside its box in the graph, however long", async () => {
    const first = await runOf('slow');
    const same = await runOf('slow'); // waits for the same job of `first`, whose result it will reuse
    const source = (await sb.runView(first)).jobs[0]!;
    await page.goto(`${url}/runs/${same}`);
    const meta = page.locator('.dag-meta');
    await meta.getByText(`submitted · cached ← ${source.id}`).waitFor();
    const box = (await page.locator('.dag-node rect').first().boundingBox())!;
    const line = (await meta.boundingBox())!;
    expect(line.x + line.width).toBeLessThanOrEqual(box.x + box.width);
    for (const name of [first, same]) expect((await sb.dstack(['stop', name])).code).toBe(0);
  });

  it('names each tab after its run or job and its status, kept up to date as the run ends', async () => {
    const name = await runOf('slow');
    const slow = (await sb.runView(name)).jobs[0]!;
    const titled = (tab: Page, title: string) => expect.poll(() => tab.title(), { timeout: 15_000 }).toBe(title);
    await page.goto(`${url}/runs/${name}`);
    await titled(page, `${name} RUNNING · dstack`);
    const jobTab = await newTab(`/jobs/${slow.id}`);
    await titled(jobTab, `slow ${slow.id} RUNNING · dstack`);

    expect((await sb.dstack(['stop', name])).code).toBe(0);
    await titled(page, `${name} STOPPED · dstack`);
    await titled(jobTab, `slow ${slow.id} STOPPED · dstack`);
    await jobTab.getByRole('link', { name: 'Runners' }).click();
    await titled(jobTab, 'Runners · dstack');
    await jobTab.close();
  });

  it('names the server it cannot reach, and says how to find a local one started again', async () => {
    await page.goto(`${url}/`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect((await sb.dstack(['server', 'stop'])).code).toBe(0);
    await expect(page.getByRole('alert').textContent({ timeout: 10_000 })).resolves.toBe(
      `cannot reach the dstack server at ${url}: is it running? ` +
        "A local server that was started again listens at a new address: run 'dstack dashboard' for its link.",
    );
  });
});
