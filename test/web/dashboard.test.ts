/**
 * The dashboard in a real browser (Debian's chromium) against the embedded server that
 * `bin/dstack` starts: log in with the link `dstack dashboard` prints, see a run submitted
 * from the CLI appear, its graph, its log arriving live, download an artifact, stop a job, a
 * failed job with the artifacts it saved; and a wrong token refused.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox, waitUntil } from '../e2e/harness.js';
import { launchChromium, type TestBrowser } from './browser.js';

const WORKFLOWS = `workflows:
  - name: prepare
    commands:
      - mkdir -p data/nested
      - echo "hello dashboard" > data/result.txt
      - echo "more" > data/nested/more.txt
      - printf 'downloading  10%%\\rdownloading 100%%\\n'
      - printf 'step 1/3'; sleep 1.3; printf '\\rstep 2/3'; sleep 1.3; printf '\\rstep 3/3\\n'
      - printf '\\033[31mred alert\\033[0m and plain\\n'
    artifacts: [data]
  - name: features
    depends-on: [prepare]
    commands: [echo "features of $(cat data/result.txt)"]
  - name: train
    depends-on: [prepare, features]
    commands:
      - echo "training with lr=$lr for $epochs epochs"
      - for i in $(seq 1 $epochs); do echo "epoch $i loss=0.$((900 - i))"; [ $((i % 5)) = 0 ] && printf '\\033[32mcheckpoint saved\\033[0m\\n'; sleep 0.15; done
  - name: broken
    commands: [echo "about to fail", mkdir -p ck, echo epoch5 > ck/state, exit 3]
    artifacts: [ck]
`;

const VARIABLES = `variables:
  global:
    seed: 42
  train:
    lr: 0.001
    epochs: 400
`;

/** Evaluated in the page (a string: the tests are compiled without the DOM's types). */
const STORED_TOKEN = "sessionStorage.getItem('dstack.token')";

/** Screenshots for the docs are written only when asked: DSTACK_SCREENSHOTS=docs npx vitest run test/web. */
const SHOTS = process.env.DSTACK_SCREENSHOTS;

async function shot(page: Page, name: string, height = 800): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, name), clip: { x: 0, y: 0, width: 1280, height } });
}

describe('the dashboard on the embedded server', () => {
  let sb: Sandbox;
  let chrome: TestBrowser;
  let url: string;
  let link: string;
  let page: Page;
  let runName: string;
  let run: RunView;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS, '.dstack/variables.yaml': VARIABLES });
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await chrome?.close();
    await sb?.dispose();
  });

  it('dstack dashboard prints a login link to the local server with its token', async () => {
    const r = await sb.dstack(['dashboard', '--no-open']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { url: string };
    const token = (await readFile(join(sb.home, 'server', 'token'), 'utf8')).trim();
    url = info.url;
    link = `${url}/#token=${encodeURIComponent(token)}`;
    expect(r.stdout).toBe(`dashboard: ${url}/\nlog in with this link (it holds your token): ${link}\n`);
  });

  it('dstack dashboard against a configured server uses its token, and refuses a wrong one', async () => {
    const token = decodeURIComponent(link.split('#token=')[1]!);
    const good = await sb.dstack(['dashboard', '--no-open'], { env: { DSTACK_SERVER: url, DSTACK_TOKEN: token } });
    expect(good.stdout).toContain(`: ${link}\n`);
    const bad = await sb.dstack(['dashboard', '--no-open'], { env: { DSTACK_SERVER: url, DSTACK_TOKEN: 'dst_wrong' } });
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      `error: the server at ${url} refused DSTACK_TOKEN; ask its admin for a new one and set DSTACK_TOKEN to it\n`,
    );
    expect(bad.code).toBe(1);
  });

  it('logs in with the link, then keeps the token out of the address bar', async () => {
    page = await chrome.context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect(page.url()).toBe(`${url}/`);
    expect(await page.evaluate(STORED_TOKEN)).toBe(decodeURIComponent(link.split('=')[1]!));
    await page.getByText('No runs yet').waitFor();
  });

  it('refuses a wrong token, from a link and from the login form', async () => {
    const other = await chrome.context.newPage();
    await other.goto(`${url}/#token=dst_wrong`);
    await expect(other.getByRole('alert').textContent()).resolves.toBe(
      "The server does not accept this token: it was replaced or revoked, or it is not this server's. " +
        "Run 'dstack dashboard' again for a new login link, or ask the server's admin for a new token.",
    );
    expect(await other.evaluate(STORED_TOKEN)).toBeNull();
    await other.getByLabel('Token').fill('dst_also_wrong');
    await other.getByRole('button', { name: 'Log in' }).click();
    await other.getByRole('alert').getByText('The server does not accept this token').waitFor();
    // The page itself is public; the API behind it is not.
    expect(await other.evaluate(async () => (await fetch('/api/runs')).status)).toBe(401);
    // The right link opened in this same tab changes only the fragment: it logs in all the same.
    await other.goto(link);
    await other.getByRole('heading', { name: 'Runs' }).waitFor();
    await other.close();
  });

  it('shows a run submitted from the CLI without a reload', async () => {
    const r = await sb.dstack(['run', 'train', '--lr', '0.01', '-d']);
    expect(r.code).toBe(0);
    runName = r.stdout.trim();
    const row = page.locator(`tr[data-run="${runName}"]`);
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('train');
    await row.getByText('RUNNING').or(row.getByText('SUBMITTED')).or(row.getByText('DOWNLOADING')).waitFor();
    run = await sb.runView(runName);
  });

  it("draws the run's jobs as a graph with their dependency", async () => {
    await page.getByRole('link', { name: runName }).click();
    await page.getByRole('heading', { name: runName }).waitFor();
    const [prepare, features, train] = run.jobs;
    expect(run.jobs.map((j) => j.workflow)).toEqual(['prepare', 'features', 'train']);
    await page.locator(`g.dag-node.node-done[data-job="${prepare!.id}"]`).waitFor();
    await page.locator(`g.dag-node.node-done[data-job="${features!.id}"]`).waitFor();
    await page.locator(`g.dag-node.node-running[data-job="${train!.id}"]`).waitFor();
    expect(await page.locator('path.dag-edge').count()).toBe(3);
    // The variables: the override, then each job's own.
    const overrides = page.locator('dl.kv').first();
    expect(await overrides.textContent()).toBe('lr0.01');
    await page.getByText('uncommitted changes').waitFor();
    await shot(page, 'dashboard-run.png', 740);
  });

  it('follows the log of a running job live', async () => {
    const train = run.jobs[2]!;
    await page.locator(`g.dag-node[data-job="${train.id}"]`).click();
    await page.getByText('following live').waitFor();
    await page.locator('.log-text', { hasText: /^epoch 3 / }).waitFor();
    const before = await page.locator('.log-line').count();
    // More lines arrive while we watch, with no navigation.
    await expect.poll(() => page.locator('.log-line').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 5);
    await page.getByPlaceholder('Search the log').fill('EPOCH 1 ');
    await expect(page.locator('mark').first().textContent()).resolves.toBe('epoch 1 ');
    expect(await page.locator('.log-line').count()).toBe(1);
    await page.getByPlaceholder('Search the log').fill('');
    await shot(page, 'dashboard-log.png');
  });

  it('renders colours and carriage returns as the terminal did', async () => {
    await page.getByRole('link', { name: runName }).click();
    await page.getByRole('link', { name: run.jobs[0]!.id }).first().click();
    const red = page.locator('.log-text span', { hasText: 'red alert' });
    await red.waitFor();
    expect(await red.evaluate((el) => (el as unknown as { style: { color: string } }).style.color)).toBe(
      'rgb(239, 107, 115)',
    );
    await page.locator('.log-text', { hasText: /^downloading 100%$/ }).waitFor();
    // Sent in three pieces a second apart (partial entries): one row, on its last state, counted once.
    const steps = page.locator('.log-text', { hasText: /step/ });
    await expect.poll(() => steps.allTextContents()).toEqual(['step 3/3']);
    await page.getByText('4 lines', { exact: true }).waitFor(); // with the runner's note of the artifacts saved
    expect(await page.locator('.log-line').count()).toBe(4);
  });

  it('downloads an artifact with its name and content', async () => {
    await page.getByRole('button', { name: '▾ data/' }).waitFor();
    await page.getByRole('button', { name: 'more.txt' }).waitFor(); // nested folders are open
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'result.txt' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('result.txt');
    expect(await readFile((await download.path())!, 'utf8')).toBe('hello dashboard\n');
  });

  it('stops a job after asking, and shows it STOPPED', async () => {
    const train = run.jobs[2]!;
    await page.goto(`${url}/jobs/${train.id}`); // a deep link: the server answers with the app
    await page.getByText('following live').waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(`Stop job ${train.id}?`).waitFor();
    await dialog.getByRole('button', { name: 'Stop' }).click();
    await page.locator('h1 .status-stopped').waitFor({ timeout: 20_000 });
    await page.getByText('finished').waitFor();
    const after = await sb.runView(runName);
    expect(after.jobs.map((j) => j.status)).toEqual(['DONE', 'DONE', 'STOPPED']);
    expect(await page.locator('table.events').textContent()).toContain(`user:admin`);
  });

  it('lists the runners and their free resources', async () => {
    await page.getByRole('link', { name: 'Runners' }).click();
    const row = page.locator('tr[data-runner="local"]');
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe('active');
  });

  it('filters the runs by status and workflow, and marks a cached job', async () => {
    expect((await sb.dstack(['run', 'broken'])).code).toBe(1);
    expect((await sb.dstack(['run', 'features'])).code).toBe(0); // both jobs cached
    await page.getByRole('link', { name: 'Runs' }).click();
    const rows = page.locator('tbody tr');
    await page.locator(`tr[data-run="${runName}"]`).getByText('STOPPED').waitFor();
    await expect.poll(() => rows.count()).toBe(3);
    await page.getByLabel('status').selectOption('FAILED');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().locator('td').nth(1).textContent()).toBe('broken');
    await page.getByLabel('status').selectOption('');
    await page.getByLabel('workflow').selectOption('features');
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().locator('a').click();
    const cached = page.locator('g.dag-node.cached');
    await cached.first().waitFor();
    expect(await cached.count()).toBe(2);
    expect(await cached.first().locator('.dag-meta').textContent()).toBe(`done · cached ← ${run.jobs[0]!.id}`);
  });

  it("tags a finished run after asking, and shows a refusal in the server's words", async () => {
    // On the cached run's page, which is DONE.
    const tag = async (name: string) => {
      await page.getByRole('button', { name: 'Tag' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Tag').fill(name);
      await dialog.getByRole('button', { name: 'Tag' }).click();
      return dialog;
    };
    await tag('best');
    await page.locator('.summary').getByText('best').waitFor();
    // A name the page lets through and the server does not: over 100 characters.
    const refused = await tag('b'.repeat(101));
    await refused
      .getByRole('alert')
      .getByText(/letters, digits, '\.', '_' and '-', starting with a letter or digit, at most 100/)
      .waitFor();
    await refused.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Tags' }).click();
    await page.locator('table.tags').getByText('best').waitFor();
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.locator('tbody tr').first().getByText('best').waitFor();
    await shot(page, 'dashboard-runs.png', 320);
  });

  it('says which project each run is of once runs come from several, and filters by it', async () => {
    // A project in a repo's folder whose remote is on this machine: its key is the remote's
    // path and the folder (core/projects.ts), which the page shows as the server gave it.
    const repo = join(dirname(sb.root), 'mono');
    const other = join(repo, 'nlp');
    await mkdir(join(other, '.dstack'), { recursive: true });
    await writeFile(join(other, '.dstack', 'workflows.yaml'), 'workflows:\n  - name: hello\n    commands: [echo hi]\n');
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', '../origin.git']);
    expect((await sb.dstack(['run', 'hello'], { cwd: other })).code).toBe(0);
    const key = `${join(dirname(sb.root), 'origin')}#nlp`;
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(4);
    await page.locator('table.runs th').getByText('Project').waitFor();
    await page.getByLabel('project').selectOption(key);
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().locator('td').nth(1).textContent()).toBe(key);
    await page.getByLabel('project').selectOption(sb.root);
    await expect.poll(() => rows.count()).toBe(3);
  });

  it('shows a failed job with the artifacts it saved, its reason and its way through UPLOADING', async () => {
    const broken = (await sb.json<RunView[]>(['status', '--last', '10'])).find((r) => r.workflow === 'broken')!
      .jobs[0]!;
    await page.goto(`${url}/jobs/${broken.id}`);
    await page.locator('h1 .status-failed').waitFor();
    expect(await page.locator('p.reason').textContent()).toBe('exit code 3');
    expect(await page.locator('.summary').textContent()).toContain('exit code 3');
    await page.getByRole('button', { name: '▾ ck/' }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'state' }).click(),
    ]);
    expect(await readFile((await download.path())!, 'utf8')).toBe('epoch5\n');
    const events = await page.locator('table.events tbody tr').allTextContents();
    expect(events.slice(-2).map((row) => row.replace(/^[\d-]+ [\d:]+/, ''))).toEqual([
      'running → UPLOADINGrunner:localexit code 3',
      'uploading → FAILEDrunner:localexit code 3',
    ]);
    // Nothing to resume: a failed job runs again as a new run.
    expect(await page.getByRole('button', { name: 'Resume' }).isDisabled()).toBe(true);
  });
});

describe('dstack dashboard opening the browser', () => {
  it('opens a file that redirects to the login link, so the token is not on a command line (ps)', async () => {
    const sb = await Sandbox.create();
    const chrome = await launchChromium();
    try {
      // A stand-in for xdg-open that keeps its arguments; on PATH from the first call, so the server keeps its PATH.
      const bin = join(dirname(sb.home), 'opener');
      const argvFile = join(bin, 'argv');
      await mkdir(bin);
      await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${argvFile}\n`, { mode: 0o755 });
      const r = await sb.dstack(['dashboard'], { env: { PATH: `${bin}:${process.env.PATH}` } });
      const url = (JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { url: string }).url;
      const token = (await readFile(join(sb.home, 'server', 'token'), 'utf8')).trim();
      const link = `${url}/#token=${encodeURIComponent(token)}`;
      expect(r.stdout).toBe(`dashboard: ${url}/\nlog in with this link (it holds your token): ${link}\n`);
      const argv = await waitUntil(async () => existsSync(argvFile) && (await readFile(argvFile, 'utf8')));
      expect(argv).not.toContain(token);
      expect(argv).toMatch(/^file:\/\/\/\S+\/dashboard\.html\n$/);
      const file = fileURLToPath(argv.trim());
      const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
      expect([await modeOf(dirname(file)), await modeOf(file)]).toEqual([0o700, 0o600]);
      expect(await readFile(file, 'utf8')).toContain(`location.replace(${JSON.stringify(link)})`);
      // Opened, the file lands on the dashboard logged in, the token out of the address bar.
      const page = await chrome.context.newPage();
      await page.goto(argv.trim());
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      expect(page.url()).toBe(`${url}/`);
      expect(await page.evaluate(STORED_TOKEN)).toBe(token);
    } finally {
      await chrome.close();
      await sb.dispose();
    }
  });
});
