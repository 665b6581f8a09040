/**
 * A job's whole log and all its artifacts saved from its page, in a real browser against the
 * embedded server: streamed into the file the reader picks where the browser can (the File
 * System Access API, its dialog stood in for by a writable that keeps what it is given), else
 * saved whole through the browser's downloads; the token always in a header, never in a URL.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import type { Sandbox } from '../e2e/harness.js';
import { closeDashboard, dashboardSandbox, type TestBrowser } from './browser.js';
import { FAKE_PICKER, type Saved } from './fake-picker.js';

const exec = promisify(execFile);

const WORKFLOWS = `workflows:
  - name: train
    commands:
      - seq 1 20000
      - echo oops >&2
      - mkdir -p out/sub out/empty && echo weights > out/sub/w.txt && ln -s sub/w.txt out/latest
    artifacts: [out]
`;

describe("saving a job's whole log and artifacts from its page", () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let job: JobRecord;
  let token: string;
  let work: string;
  /** Every request the tab made to the API, with its Authorization header. */
  const requests: { url: string; authorization?: string }[] = [];
  const noted = (r: Request) => {
    if (r.url().includes('/api/')) requests.push({ url: r.url(), authorization: r.headers().authorization });
  };
  const newTab = async (init?: string) => {
    const tab = await chrome.context.newPage();
    tab.setDefaultTimeout(20_000);
    if (init) await tab.addInitScript(init);
    tab.on('request', noted);
    await tab.goto(`${url}/jobs/${job.id}`);
    await tab.locator('.stream-state', { hasText: 'finished' }).waitFor();
    return tab;
  };

  beforeAll(async () => {
    ({ sb, chrome, url } = await dashboardSandbox((s) => s.write({ '.dstack/workflows.yaml': WORKFLOWS })));
    const r = await sb.dstack(['run', 'train', '-d']);
    job = (await sb.ended(r.stdout.trim())).jobs[0]!;
    expect(job.status).toBe('DONE');
    token = (await readFile(join(sb.home, 'server', 'token'), 'utf8')).trim();
    work = await mkdtemp(join(tmpdir(), 'dstack-downloads-'));
  }, 90_000);
  afterAll(async () => {
    await closeDashboard(sb, chrome);
    await rm(work, { recursive: true, force: true });
  });

  it('streams the whole log into the file the reader picks, as dstack logs prints it', async () => {
    const tab = await newTab(FAKE_PICKER);
    const downloads: unknown[] = [];
    tab.on('download', (d) => downloads.push(d));
    await tab.getByRole('button', { name: 'Download log' }).click();
    await expect.poll(() => tab.evaluate('window.__saved?.closed'), { timeout: 15_000 }).toBe(true);
    const saved = (await tab.evaluate('window.__saved')) as Saved;
    expect(saved.name).toBe(`${job.runName}-train-${job.id}.log`);
    const logs = await sb.dstack(['logs', job.id]);
    expect(saved.chunks.join('')).toBe(logs.stdout + logs.stderr); // `oops` went to stderr there
    expect(downloads).toEqual([]); // written through the picked file, not gathered for the browser's downloads
    await tab.getByRole('button', { name: 'Download log' }).and(tab.locator(':enabled')).waitFor();
    await tab.close();
  });

  it("saves the log through the browser's downloads where it cannot stream to a file", async () => {
    const tab = await newTab('delete window.showSaveFilePicker;');
    const download = tab.waitForEvent('download');
    await tab.getByRole('button', { name: 'Download log' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`${job.runName}-train-${job.id}.log`);
    const text = await readFile((await file.path())!, 'utf8');
    expect(text.split('\n').slice(0, 3)).toEqual(['1', '2', '3']);
    expect(text).toContain('19999\n20000\n');
    expect(text).toContain('oops\n');
    await tab.close();
  });

  it('saves all the artifacts as one tar, with their paths, folders and links', async () => {
    const tab = await newTab('delete window.showSaveFilePicker;');
    const download = tab.waitForEvent('download');
    await tab.getByRole('button', { name: 'Download all (.tar)' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`${job.runName}-train-${job.id}-artifacts.tar`);
    await file.saveAs(join(work, 'a.tar'));
    await exec('tar', ['-xf', 'a.tar'], { cwd: work });
    expect(await readFile(join(work, 'out/sub/w.txt'), 'utf8')).toBe('weights\n');
    expect(await readFile(join(work, 'out/latest'), 'utf8')).toBe('weights\n'); // the link, kept as a link
    const { stdout } = await exec('tar', ['-tvf', 'a.tar'], { cwd: work });
    expect(stdout).toMatch(/^l.* out\/latest -> sub\/w\.txt$/m);
    expect(stdout).toMatch(/^d.* out\/empty\/$/m);
    await tab.close();
  });

  it('does nothing when the reader closes the file picker, and says why when it refuses', async () => {
    const tab = await newTab(FAKE_PICKER);
    const button = tab.getByRole('button', { name: 'Download log' });
    await tab.evaluate("window.__picker = 'cancel'");
    await button.click();
    await button.and(tab.locator(':enabled')).waitFor();
    expect(await tab.locator('.download .error').count()).toBe(0);

    await tab.evaluate("window.__picker = 'refuse'");
    await button.click();
    await expect(tab.locator('.download .error').textContent()).resolves.toBe(
      'the download failed: This folder holds system files.',
    );
    await tab.close();
  });

  it('sends the token in the Authorization header, never in a URL', async () => {
    const downloads = requests.filter((r) => /\/api\/jobs\/[0-9a-f]+\/(log|artifacts\/archive)$/.test(r.url));
    expect(downloads.length).toBeGreaterThanOrEqual(3);
    for (const r of downloads) expect(r.authorization).toBe(`Bearer ${token}`);
    expect(requests.filter((r) => r.url.includes(token))).toEqual([]);
  });
});
