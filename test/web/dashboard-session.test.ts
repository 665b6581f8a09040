/**
 * The dashboard's session across tabs and bad addresses, in a real browser against the
 * embedded server: a tab opened from another gets its session (asked over a BroadcastChannel,
 * never from disk), logging out of one logs the others out, a damaged login link or a
 * malformed path shows the login or not-found page rather than a blank one, a replaced token
 * is said to be replaced, and a page the server answers 404 stops asking.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../e2e/harness.js';
import { launchChromium, type TestBrowser } from './browser.js';

/** Evaluated in the page (a string: the tests are compiled without the DOM's types). */
const STORED_TOKEN = "sessionStorage.getItem('dstack.token')";
const LOCAL_STORAGE = 'localStorage.length';

/** The login page's words for a token the server does not know (web/src/pages/login-page.tsx). */
const UNKNOWN_TOKEN =
  "The server does not accept this token: it was replaced or revoked, or it is not this server's. " +
  "Run 'dstack dashboard' again for a new login link, or ask the server's admin for a new token.";

describe("the dashboard's session across tabs, and bad addresses", () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let token: string;
  let first: Page;

  const newTab = async () => {
    const page = await chrome.context.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  };

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: hello\n    commands: [echo hi]\n' });
    chrome = await launchChromium();
    const r = await sb.dstack(['dashboard', '--no-open']);
    expect(r.code).toBe(0);
    url = (JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { url: string }).url;
    token = (await readFile(join(sb.home, 'server', 'token'), 'utf8')).trim();
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await sb?.dispose();
  });

  it('shows the login page, not a blank one, for a login link whose token is not valid URL encoding', async () => {
    const page = await newTab();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/#token=%zz`);
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'This login link is damaged: its token is not valid URL encoding (was it cut or changed as it was copied?). ' +
        "Run 'dstack dashboard' again for a new link, or paste your token below.",
    );
    expect(page.url()).toBe(`${url}/`); // the damaged token is out of the address bar too
    expect(await page.evaluate(STORED_TOKEN)).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('gives a tab opened from a logged-in one its session, keeping the token off disk', async () => {
    first = await newTab();
    await first.goto(`${url}/#token=${encodeURIComponent(token)}`);
    await first.getByRole('heading', { name: 'Runs' }).waitFor();
    // A link opened in a new tab: its own empty sessionStorage, the path of the page it shows.
    const second = await newTab();
    await second.goto(`${url}/runners`);
    await second.getByRole('heading', { name: 'Runners' }).waitFor();
    expect(await second.evaluate(STORED_TOKEN)).toBe(token);
    expect([await first.evaluate(LOCAL_STORAGE), await second.evaluate(LOCAL_STORAGE)]).toEqual([0, 0]);
    await second.close();
  });

  it('shows the not-found page for a path with a malformed escape', async () => {
    const errors: string[] = [];
    first.on('pageerror', (e) => errors.push(e.message));
    for (const path of ['/runs/%zz', '/jobs/%E0%A4%A']) {
      await first.goto(`${url}${path}`);
      await first.getByRole('heading', { name: 'Not found' }).waitFor();
      expect(await first.locator('main code').textContent()).toBe(path);
    }
    expect(errors).toEqual([]);
  });

  it('stops asking for a job or run the server answers 404, saying so once', async () => {
    const asked: string[] = [];
    const other = await newTab(); // its session from `first`, over the channel
    for (const page of [first, other]) {
      page.on('request', (r) => {
        const path = new URL(r.url()).pathname;
        if (path === '/api/jobs/0123456789ab' || path === '/api/runs/no-such-run') asked.push(path);
      });
    }
    await first.goto(`${url}/jobs/0123456789ab`);
    await other.goto(`${url}/runs/no-such-run`);
    await first.getByRole('alert').getByText("no run or job named '0123456789ab'").waitFor();
    await other.getByRole('alert').getByText("no run or job named 'no-such-run'").waitFor();
    await new Promise((r) => setTimeout(r, 5000)); // two and a half of their 2 s polls
    expect(asked.sort()).toEqual(['/api/jobs/0123456789ab', '/api/runs/no-such-run']);
    await other.close();
  });

  it('logs the other tabs of the same token out when one logs out', async () => {
    await first.goto(`${url}/`);
    await first.getByRole('heading', { name: 'Runs' }).waitFor();
    const second = await newTab();
    await second.goto(`${url}/tags`);
    await second.getByRole('heading', { name: 'Tags' }).waitFor();
    await second.getByRole('button', { name: 'Log out' }).click();
    await first.getByLabel('Token').waitFor();
    expect(await first.evaluate(STORED_TOKEN)).toBeNull();
    // With no tab logged in, a new one has nobody to ask: the login page.
    const third = await newTab();
    await third.goto(`${url}/`);
    await third.getByLabel('Token').waitFor();
    expect(await third.getByRole('alert').count()).toBe(0);
    await Promise.all([second.close(), third.close()]);
  });

  it('says that a token replaced while in use was replaced or revoked, and what to do', async () => {
    const added = await sb.dstack(['users', 'add', 'bob']);
    const bobToken = /dst_\S+/.exec(added.stdout)![0];
    await first.goto(`${url}/#token=${encodeURIComponent(bobToken)}`);
    await first.getByRole('heading', { name: 'Runs' }).waitFor();
    expect((await sb.dstack(['users', 'token', 'bob'])).code).toBe(0);
    await expect(first.getByRole('alert').textContent({ timeout: 10_000 })).resolves.toBe(UNKNOWN_TOKEN);
    expect(await first.evaluate(STORED_TOKEN)).toBeNull();
    // The old token in a link says the same.
    await first.goto(`${url}/#token=${encodeURIComponent(bobToken)}`);
    await expect(first.getByRole('alert').textContent()).resolves.toBe(UNKNOWN_TOKEN);
  });
});
