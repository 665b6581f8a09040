/**
 * Pages with much in them, in a real browser against the embedded server: the Tags page of an
 * admin names whose each tag is and shows the tags promised to unfinished runs; a 150-job
 * fan-out's graph scrolls in a box of its own above the jobs table; a large artifact's download
 * shows its progress, and its button is disabled until it is done.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/server/store/sqlite.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { waitUntil, type Sandbox } from '../e2e/harness.js';
import { closeDashboard, dashboardSandbox, type TestBrowser } from './browser.js';

const WIDE = 150;
const BIG_BYTES = 40_000_000;

const WORKFLOWS = `workflows:
  - name: hello
    commands: [echo hi]
  - name: slow
    commands: [sleep 120]
  - name: big
    commands: ['mkdir -p out && head -c ${BIG_BYTES} /dev/urandom > out/big.bin']
    artifacts: [out]
`;

/** A finished run of one job and WIDE jobs that depend on it, straight into the store before its server starts. */
async function seedFanOut(dbPath: string): Promise<void> {
  const store = await openSqliteStore(dbPath);
  const run = makeRun('fan-out', { user: 'admin', workflow: 'fan', submittedAt: Date.now() - 60_000 });
  const done = { status: 'DONE' as const, startedAt: run.submittedAt + 1000, finishedAt: run.submittedAt + 5000 };
  const root = makeJob(run, 'prepare', { id: 'f00000000000', ...done });
  const leaves = Array.from({ length: WIDE }, (_, i) =>
    makeJob(run, `part-${i}`, { id: (0xf00000000001 + i).toString(16), dependsOn: [root.id], ...done }),
  );
  await store.createRun(run, [root, ...leaves], 'admin');
  await store.close();
}

describe('the dashboard pages with much in them', () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let page: Page;
  const runOf = async (args: string[], env: Record<string, string> = {}) => {
    const r = await sb.dstack(['run', ...args, '-d'], { env });
    expect(r.stderr).toBe('');
    return r.stdout.trim();
  };

  beforeAll(async () => {
    ({ sb, chrome, url, page } = await dashboardSandbox(async (s) => {
      await s.write({ '.dstack/workflows.yaml': WORKFLOWS });
      await seedFanOut(join(s.home, 'server', 'dstack.db'));
    }));
  }, 60_000);
  afterAll(() => closeDashboard(sb, chrome));

  it("names each tag's user, and shows a tag promised to an unfinished run", async () => {
    const mine = await sb.ended(await runOf(['hello', '--tag', 'best']), 30_000);
    const bobToken = /dst_\S+/.exec((await sb.dstack(['users', 'add', 'bob'])).stdout)![0];
    const asBob = { DSTACK_SERVER: url, DSTACK_TOKEN: bobToken };
    const bobRun = await runOf(['hello', '--tag', 'best', '--no-cache'], asBob);
    const promised = await runOf(['slow', '--tag', 'next']);
    await waitUntil(async () => (await sb.runView(bobRun)).status === 'DONE');

    await page.getByRole('link', { name: 'Tags' }).click();
    const row = (run: string) => page.locator(`table.tags tr[data-run="${run}"] td`);
    await expect
      .poll(() => row(promised).allTextContents())
      .toEqual(['next (when DONE)', promised, 'admin', 'slow', 'slow', expect.stringMatching(/s ago$/)]);
    expect(await page.locator('table.tags th').allTextContents()).toEqual([
      'Tag',
      'Run',
      'User',
      'Workflow',
      'Jobs',
      'Submitted',
    ]);
    expect((await row(mine.name).allTextContents()).slice(0, 3)).toEqual(['best', mine.name, 'admin']);
    expect((await row(bobRun).allTextContents()).slice(0, 3)).toEqual(['best', bobRun, 'bob']);
    await page.getByText('(when DONE): promised to an unfinished run submitted with --tag').waitFor();
    expect((await sb.dstack(['stop', promised])).code).toBe(0);
  });

  it(`keeps a ${WIDE}-job fan-out's graph in a box of its own, the jobs table right below`, async () => {
    await page.goto(`${url}/runs/fan-out`);
    await page.locator('g.dag-node[data-job="f00000000000"]').waitFor();
    const box = (await page.locator('.dag').boundingBox())!;
    const table = (await page.locator('table.jobs').boundingBox())!;
    expect(box.height).toBeLessThanOrEqual(520);
    expect(table.y).toBeLessThan(box.y + box.height + 50);
    // The whole graph is there, scrolled inside the box.
    const scroll = await page
      .locator('.dag')
      .evaluate((el) => ({ height: (el as unknown as { scrollHeight: number }).scrollHeight }));
    expect(scroll.height).toBeGreaterThan(WIDE * 58);
    expect(await page.locator('g.dag-node').count()).toBe(WIDE + 1);
  });

  it('shows how much of a large artifact has arrived, and takes no second click meanwhile', async () => {
    const job = (await sb.ended(await runOf(['big']), 30_000)).jobs[0]!;
    await page.goto(`${url}/jobs/${job.id}`);
    const button = page.getByRole('button', { name: 'big.bin' });
    await button.waitFor();
    const asked: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/blobs/')) asked.push(r.url());
    });
    // 8 MB/s: the 40 MB take about 5 s.
    const cdp = await chrome.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: 8_000_000,
      uploadThroughput: -1,
    });
    const download = page.waitForEvent('download', { timeout: 30_000 });
    await button.click();
    const size = page.locator('li.file', { has: button }).locator('.size');
    await size.getByText(/^downloading [1-9][\d.]*MB of 40MB \(\d+%\)$/).waitFor();
    expect(await button.isDisabled()).toBe(true);
    await button.click({ force: true }); // a second click on the disabled button starts nothing
    const saved = await download;
    expect(saved.suggestedFilename()).toBe('big.bin');
    expect((await stat((await saved.path())!)).size).toBe(BIG_BYTES);
    await expect.poll(() => size.textContent()).toBe('40MB');
    expect(await button.isDisabled()).toBe(false);
    expect(asked).toHaveLength(1);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
  });
});
