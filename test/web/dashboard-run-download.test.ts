/**
 * Every job's log of a run saved from the run's page ("Download logs"), in a real browser against
 * the embedded server: the text `dstack logs RUN` prints, each job's lines under its prefix,
 * streamed into the file the reader picks (its dialog stood in for, as in
 * dashboard-downloads.test.ts), else through the browser's downloads; the token in a header only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../e2e/harness.js';
import { closeDashboard, dashboardSandbox, type TestBrowser } from './browser.js';
import { FAKE_PICKER, type Saved } from './fake-picker.js';

const WORKFLOWS = `workflows:
  - name: prepare
    commands:
      - seq 1 3000
      - mkdir -p data && echo rows > data/rows.txt
    artifacts: [data]
  - name: train
    depends-on: [prepare]
    commands:
      - for i in 1 2 3; do echo "epoch $i"; done
`;

describe("saving a run's logs from its page", () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let run: string;
  let token: string;
  const requests: { url: string; authorization?: string }[] = [];
  const noted = (r: Request) => {
    if (r.url().includes('/api/')) requests.push({ url: r.url(), authorization: r.headers().authorization });
  };
  const newTab = async (init: string) => {
    const tab = await chrome.context.newPage();
    tab.setDefaultTimeout(20_000);
    await tab.addInitScript(init);
    tab.on('request', noted);
    await tab.goto(`${url}/runs/${run}`);
    await tab.getByRole('button', { name: 'Download logs' }).waitFor();
    return tab;
  };

  beforeAll(async () => {
    ({ sb, chrome, url } = await dashboardSandbox((s) => s.write({ '.dstack/workflows.yaml': WORKFLOWS })));
    run = (await sb.dstack(['run', 'train', '-d'])).stdout.trim();
    const ended = await sb.ended(run);
    expect(ended.jobs.map((j) => j.status)).toEqual(['DONE', 'DONE']);
    token = (await readFile(join(sb.home, 'server', 'token'), 'utf8')).trim();
  }, 90_000);
  afterAll(() => closeDashboard(sb, chrome));

  it('streams every job’s log into the file the reader picks, as dstack logs RUN prints it', async () => {
    const tab = await newTab(FAKE_PICKER);
    await tab.getByRole('button', { name: 'Download logs' }).click();
    await expect.poll(() => tab.evaluate('window.__saved?.closed'), { timeout: 15_000 }).toBe(true);
    const saved = (await tab.evaluate('window.__saved')) as Saved;
    expect(saved.name).toBe(`${run}.log`);
    const logs = await sb.dstack(['logs', run]);
    const text = saved.chunks.join('');
    // The runner's own note went to stderr there (a pipe of its own), and is in its place here.
    expect(text).toMatch(/^train {3}\| \[dstack\] artifacts of prepare .*\n/m);
    const own = text.split('\n').filter((line) => !line.includes('[dstack]'));
    expect(own.join('\n')).toBe(logs.stdout);
    expect(own.join('\n')).toContain('prepare | 3000\ntrain   | epoch 1\n');
    await tab.close();
  });

  it("saves them through the browser's downloads where it cannot stream to a file", async () => {
    const tab = await newTab('delete window.showSaveFilePicker;');
    const download = tab.waitForEvent('download');
    await tab.getByRole('button', { name: 'Download logs' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`${run}.log`);
    const text = await readFile((await file.path())!, 'utf8');
    expect(text.split('\n').slice(0, 2)).toEqual(['prepare | 1', 'prepare | 2']);
    expect(text.endsWith('train   | epoch 3\n')).toBe(true);
    await tab.close();
  });

  it('sends the token in the Authorization header, never in a URL', () => {
    const downloads = requests.filter((r) => r.url.endsWith(`/api/runs/${run}/log`));
    expect(downloads.length).toBe(2);
    for (const r of downloads) expect(r.authorization).toBe(`Bearer ${token}`);
    expect(requests.filter((r) => r.url.includes(token))).toEqual([]);
  });
});
