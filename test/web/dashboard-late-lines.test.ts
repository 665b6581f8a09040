/**
 * The job page of a job failed as `runner lost`, in a real browser against a team server
 * with a runner process: the page says lines may still come, and shows those its runner
 * delivers once it is back, without a reload.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox, waitUntil } from '../e2e/harness.js';
import { TeamRunner, TeamServer } from '../e2e/team-harness.js';
import { launchChromium, type TestBrowser } from './browser.js';

const WORKFLOWS = `workflows:
  - name: ticker
    commands: ['for i in $(seq 1 300); do echo "tick $i"; sleep 0.2; done']
`;

describe('the job page of a job whose runner was lost', () => {
  let server: TeamServer;
  let runner: TeamRunner;
  let sb: Sandbox;
  let chrome: TestBrowser;
  let page: Page;
  const dstack = (args: string[]) =>
    sb.dstack(args, { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } });
  const jobOf = async (name: string) =>
    (JSON.parse((await dstack(['status', name, '--json'])).stdout) as RunView[])[0]!.jobs[0]!;

  beforeAll(async () => {
    server = await TeamServer.start(['--runner-timeout', '2']);
    runner = await TeamRunner.start(server, 'paused', ['--cpu', '2']);
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    chrome = await launchChromium();
    page = await chrome.context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${server.url}/#token=${encodeURIComponent(server.token)}`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
  }, 60_000);
  afterAll(async () => {
    runner?.proc.kill('SIGCONT');
    await chrome?.close();
    await runner?.kill();
    await server?.kill();
    await sb?.dispose();
  });

  it('shows the lines a lost runner delivers once it is back', async () => {
    const name = (await dstack(['run', 'ticker', '-d'])).stdout.trim();
    const job = await jobOf(name);
    await page.goto(`${server.url}/jobs/${job.id}`);
    // A busy machine may take a while to start it: it ticks for a minute.
    await page.locator('.log-text', { hasText: /^tick 3$/ }).waitFor({ timeout: 60_000 });
    runner.proc.kill('SIGSTOP'); // the job goes on printing into its pipe, unread
    await waitUntil(async () => (await jobOf(name)).status === 'FAILED', 30_000);
    await page.locator('h1 .status-failed').waitFor();
    await page.locator('.stream-state', { hasText: 'finished · showing lines its runner still sends' }).waitFor();
    const before = await page.locator('.log-text').count();

    runner.proc.kill('SIGCONT'); // back: it sends what it read meanwhile, then ends the job it no longer has
    await expect.poll(() => page.locator('.log-text').count(), { timeout: 20_000 }).toBeGreaterThan(before);
    const stored = (await dstack(['logs', job.id])).stdout.split('\n').filter(Boolean);
    expect(stored.length).toBeGreaterThan(before);
    await expect.poll(() => page.locator('.log-line.stdout .log-text').allTextContents()).toEqual(stored);
    expect((await jobOf(name)).reason).toBe('runner lost');
  }, 180_000);
});
