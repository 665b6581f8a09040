/**
 * The job page with long logs, resumed jobs and another user's jobs, in a real browser
 * against the embedded server: a 300,000-line log loads only its last lines (earlier ones on
 * request), a chatty live job's page keeps a bounded number of rows, a finished job's log is
 * never said to be followed live, a resumed job's time counts every attempt, and a job the
 * reader may not open is not a link.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, LogLine } from '../../src/core/api.js';
import { duration, timeRan } from '../../web/src/lib/format.js';
import { Sandbox, waitUntil } from '../e2e/harness.js';
import { launchChromium, openDashboard, type TestBrowser } from './browser.js';

const BIG = 300_000;
/** The lines the job page loads at first (web/src/lib/use-log-stream.ts; that file uses the DOM's types). */
const TAIL_LINES = 3000;

const WORKFLOWS = `workflows:
  - name: big
    commands: ['seq 1 ${BIG}']
  - name: chatty
    commands: ['for i in $(seq 1 20); do seq $((i * 1000 - 999)) $((i * 1000)); sleep 0.1; done', 'sleep 60']
  - name: resumable
    commands: ['sleep 2.5']
  - name: shared
    commands: ['echo shared']
`;

/** Every text `.stream-state` showed, recorded in the page from its first render. */
const RECORD_STATES = `
  window.__states = [];
  new MutationObserver(() => {
    const text = document.querySelector('.stream-state')?.textContent;
    if (text && window.__states.at(-1) !== text) window.__states.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

describe('the job page with long logs, resumed jobs and other users', () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let token: string;
  let page: Page;
  const runOf = async (workflow: string, env: Record<string, string> = {}) => {
    const r = await sb.dstack(['run', workflow, '-d'], { env });
    expect(r.stderr).toBe('');
    return r.stdout.trim();
  };
  const rowTexts = () => page.locator('.log-text').allTextContents();

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    chrome = await launchChromium();
    ({ url, page } = await openDashboard(sb, chrome, (tab) => tab.addInitScript(RECORD_STATES)));
    token = (await readFile(join(sb.home, 'server', 'token'), 'utf8')).trim();
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await sb?.dispose();
  });

  it(`loads only the last ${TAIL_LINES} lines of a ${BIG}-line log, and says it is finished, never live`, async () => {
    const job = (await sb.ended(await runOf('big'))).jobs[0]!;
    expect(job.status).toBe('DONE');
    const stream = page.waitForResponse((r) => r.url().includes('/api/logs/stream'));
    await page.goto(`${url}/jobs/${job.id}`);
    await page.locator('.stream-state', { hasText: 'finished' }).waitFor();
    // What came over the wire: the last entries holding TAIL_LINES lines, whole (one read of the job's pipe each).
    const body = await (await stream).text();
    const sent = body
      .split('\n\n')
      .filter((e) => e.startsWith('event: log'))
      .flatMap((e) => JSON.parse(/^data: (.*)$/m.exec(e)![1]!) as LogLine[]);
    const linesSent = sent.reduce((n, e) => n + e.text.split('\n').length, 0);
    expect(linesSent).toBeGreaterThanOrEqual(TAIL_LINES);
    expect(linesSent).toBeLessThan(TAIL_LINES + 64 * 1024); // an entry is at most 64 KiB
    expect(linesSent).toBeLessThan(BIG / 10);
    // Kept and shown: the last lines, at least TAIL_LINES (1,000 more before trimming), in order.
    const rows = (await rowTexts()).map(Number);
    expect(rows.length).toBeGreaterThanOrEqual(TAIL_LINES);
    expect(rows.length).toBeLessThanOrEqual(TAIL_LINES + 1000);
    expect(rows).toEqual(Array.from({ length: rows.length }, (_, i) => BIG - rows.length + 1 + i));
    await page.getByText(`the last ${rows.length} lines`).waitFor();
    const states = (await page.evaluate('window.__states')) as string[];
    expect(states).not.toContain('following live');
    expect(states.at(-1)).toBe('finished');
  });

  it('loads earlier lines on request, with none missing or doubled', async () => {
    const before = (await rowTexts()).length;
    await page.getByRole('button', { name: 'Show earlier lines' }).click();
    await expect.poll(async () => (await rowTexts()).length).toBeGreaterThanOrEqual(before + TAIL_LINES);
    const rows = (await rowTexts()).map(Number);
    const first = rows[0]!;
    expect(rows).toEqual(Array.from({ length: BIG - first + 1 }, (_, i) => first + i));
    expect(rows.length).toBeLessThan(before + 4 * TAIL_LINES + 64 * 1024);
    await page.getByText(`the last ${rows.length} lines`).waitFor();
  });

  it("keeps a bounded number of rows while following a chatty job's log", async () => {
    const name = await runOf('chatty');
    const job = (await sb.runView(name)).jobs[0]!;
    await page.goto(`${url}/jobs/${job.id}`);
    await page.locator('.stream-state', { hasText: 'following live' }).waitFor();
    await page.locator('.log-text', { hasText: /^20000$/ }).waitFor({ timeout: 30_000 });
    const rows = (await rowTexts()).map(Number);
    expect(rows.length).toBeLessThanOrEqual(TAIL_LINES + 1000);
    expect(rows).toEqual(Array.from({ length: rows.length }, (_, i) => 20_000 - rows.length + 1 + i));
    expect((await sb.dstack(['stop', name])).code).toBe(0);
    await page.locator('.stream-state', { hasText: 'finished' }).waitFor();
  });

  it('counts every attempt of a resumed job, and says a run shows only its last attempt', async () => {
    const name = await runOf('resumable');
    const job = (await sb.runView(name)).jobs[0]!;
    await waitUntil(async () => (await sb.runView(name)).jobs[0]!.status === 'RUNNING');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await sb.dstack(['stop', name])).code).toBe(0);
    await sb.ended(name);
    expect((await sb.dstack(['resume', name])).code).toBe(0);
    expect((await sb.ended(name)).status).toBe('DONE');
    const response = await fetch(`${url}/api/jobs/${job.id}`, { headers: { authorization: `Bearer ${token}` } });
    const { events } = (await response.json()) as JobView;
    const ran = timeRan(events)!;
    expect(ran.attempts).toBe(2);
    expect(ran.ms).toBeGreaterThan(3500); // 2.5 s, and 1.5 s or more before the stop
    await page.goto(`${url}/jobs/${job.id}`);
    await page
      .locator('.summary')
      .getByText(`ran ${duration(ran.ms)} in 2 attempts`)
      .waitFor();
    await page.goto(`${url}/runs/${name}`);
    const cell = page.locator(`tr[data-job="${job.id}"] td`).last();
    await expect.poll(() => cell.textContent()).toMatch(/^\d+\.\ds \(last attempt\)$/);
    await page
      .locator('.summary')
      .getByText(/ran \d+\.\ds \(last attempt\)/)
      .waitFor();
  });

  it("shows another user's job that a cached one reuses as text, not a link that fails", async () => {
    const source = (await sb.ended(await runOf('shared'))).jobs[0]!;
    const added = await sb.dstack(['users', 'add', 'bob']);
    const bobToken = /dst_\S+/.exec(added.stdout)![0];
    const asBob = { DSTACK_SERVER: url, DSTACK_TOKEN: bobToken };
    const bobs = await sb.ended(await runOf('shared', asBob));
    const cached = bobs.jobs[0]!;
    expect(cached.cachedFrom).toBe(source.id);

    const bob = await chrome.context.newPage();
    bob.setDefaultTimeout(20_000);
    await bob.goto(`${url}/#token=${encodeURIComponent(bobToken)}`);
    await bob.getByRole('heading', { name: 'Runs' }).waitFor();
    await bob.goto(`${url}/runs/${bobs.name}`);
    const row = bob.locator(`tr[data-job="${cached.id}"]`);
    await row.getByText("cached ← another user's job").waitFor();
    expect(await row.textContent()).not.toContain(source.id);
    // The graph names it so too, without its id.
    expect(await bob.locator('.dag-node').first().textContent()).toContain("cached ← another user's job");
    expect(await row.getByRole('link', { name: source.id }).count()).toBe(0);
    await bob.goto(`${url}/jobs/${cached.id}`);
    await bob.locator('.summary').getByText("cached: reuses another user's job").waitFor();
    expect(await bob.locator('.summary').textContent()).not.toContain(source.id);
    expect(await bob.locator('.summary').getByRole('link', { name: source.id }).count()).toBe(0);
    await bob.close();

    // The admin may open it: a link.
    await page.goto(`${url}/runs/${bobs.name}`);
    await page.locator(`tr[data-job="${cached.id}"]`).getByRole('link', { name: source.id }).click();
    await page.getByRole('heading', { name: new RegExp(source.id) }).waitFor();
  });
});
