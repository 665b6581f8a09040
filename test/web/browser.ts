/**
 * Debian's chromium driven by playwright-core, for the dashboard's browser tests. A missing
 * chromium fails the test with how to install it: these tests never skip.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Sandbox } from '../e2e/harness.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  /** Each page is a tab of its own, with its own sessionStorage: a new page is logged out. */
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard's browser tests need it; run scripts/install-test-deps.sh`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'dstack-chromium-'));
  // A fresh profile each time (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * `dstack dashboard --no-open` in `sb` (which starts its embedded server): the server's URL and
 * a tab logged in through the link it printed, on the Runs page. `before` runs on the tab first
 * (an init script that must see the first load).
 */
export async function openDashboard(
  sb: Sandbox,
  chrome: TestBrowser,
  before?: (page: Page) => Promise<unknown>,
): Promise<{ url: string; page: Page }> {
  const r = await sb.dstack(['dashboard', '--no-open']);
  const url = (JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { url: string }).url;
  const page = await chrome.context.newPage();
  page.setDefaultTimeout(20_000);
  await before?.(page);
  await page.goto(/log in with this link[^:]*: (\S+)/.exec(r.stdout)![1]!);
  await page.getByRole('heading', { name: 'Runs' }).waitFor();
  return { url, page };
}

/**
 * A new sandbox readied by `prepare` (its project's files, a seeded database) before its server
 * starts, with its dashboard open in a new Chromium (openDashboard); closeDashboard ends both.
 */
export async function dashboardSandbox(
  prepare: (sb: Sandbox) => Promise<unknown>,
): Promise<{ sb: Sandbox; chrome: TestBrowser; url: string; page: Page }> {
  const sb = await Sandbox.create();
  let chrome: TestBrowser | undefined;
  try {
    await prepare(sb);
    chrome = await launchChromium();
    return { sb, chrome, ...(await openDashboard(sb, chrome)) };
  } catch (e) {
    await closeDashboard(sb, chrome);
    throw e;
  }
}

export async function closeDashboard(sb: Sandbox | undefined, chrome: TestBrowser | undefined): Promise<void> {
  await chrome?.close();
  await sb?.dispose();
}
