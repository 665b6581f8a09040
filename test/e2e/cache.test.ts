/** The job cache through the real CLI: what is reused, what runs again, and what is never trusted. */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { jobProcesses } from '../services/processes.js';
import { Sandbox, waitUntil } from './harness.js';

const WORKFLOWS = `workflows:
  - name: prepare
    inputs: [src/**, .dstack/**]
    commands:
      - mkdir -p data
      - echo "size=$size random=$RANDOM$RANDOM" > data/data.txt
      - sleep $delay
    artifacts: [data]
  - name: train
    depends-on: [prepare]
    commands:
      - mkdir -p model
      - cat data/data.txt > model/model.txt
      - echo "epochs=$epochs" >> model/model.txt
    artifacts: [model]
  - name: py
    provider: python
    python_script: train.py
    inputs: [data/**]
  - name: folder
    inputs: [src]
    commands: [cat src/prepare.txt]
`;
const VARIABLES = `variables:
  global:
    delay: 0
  prepare:
    size: 10
  train:
    epochs: 1
`;

describe('the job cache', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': VARIABLES,
      'src/prepare.txt': 'v1',
      'README.md': 'readme',
      'train.py': 'print("train v1")\n',
      'data/rows.csv': 'a,b\n',
    });
  });
  afterAll(() => sb.dispose());

  const artifact = async (jobId: string, path: string) => {
    const out = join(sb.root, '..', `out-${jobId}`);
    await sb.dstack(['artifacts', jobId, '-o', out]);
    return readFile(join(out, path), 'utf8');
  };

  let first: RunView;

  it('re-running the same code and variables runs nothing', async () => {
    expect((await sb.dstack(['run', 'train'])).code).toBe(0);
    first = await sb.lastRun();
    const again = await sb.dstack(['run', 'train']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`prepare: cached, reusing job ${first.jobs[0]!.id}`);
    const second = await sb.lastRun();
    // Nothing ran: no old log replayed, the summary and the run's outcome still shown.
    expect(again.stderr).not.toContain('saved artifacts');
    expect(again.stderr).toContain(`run ${second.name} DONE`);
    expect(second.jobs.map((j) => [j.status, j.cachedFrom])).toEqual([
      ['DONE', first.jobs[0]!.id],
      ['DONE', first.jobs[1]!.id],
    ]);
    const status = await sb.dstack(['status', second.name]);
    expect(status.stdout).toContain(`DONE cached (${first.jobs[0]!.id})`);
    // Its logs and artifacts are reachable through the new run.
    expect(await artifact(second.jobs[1]!.id, 'model/model.txt')).toBe(
      await artifact(first.jobs[1]!.id, 'model/model.txt'),
    );
    expect((await sb.dstack(['logs', second.jobs[1]!.id])).stderr).toContain('saved artifacts');
  });

  it("logs of a cached job are its source's, with a note on stderr that says whose; stdout is the log alone", async () => {
    const second = await sb.lastRun();
    const [prepare, train] = first.jobs;
    const note = (ref: string, id: string) => `[dstack] ${ref}: cached; the log of job ${id} (run ${first.name})\n`;
    for (const follow of [[], ['-f']]) {
      const job = await sb.dstack(['logs', ...follow, second.jobs[1]!.id]);
      const source = await sb.dstack(['logs', ...follow, train!.id]);
      expect(job.stdout).toBe(source.stdout);
      expect(job.stderr).toBe(note('train', train!.id) + source.stderr);
      const run = await sb.dstack(['logs', ...follow, second.name]);
      expect(run.stdout).toBe((await sb.dstack(['logs', ...follow, first.name])).stdout);
      expect(run.stderr).toContain(note('prepare', prepare!.id));
      expect(run.stderr).toContain(note('train', train!.id));
      // Each note comes before its job's lines: prepare ran first, so its note opens stderr.
      expect(run.stderr.indexOf(note('prepare', prepare!.id))).toBe(0);
    }
    expect((await sb.dstack(['logs', train!.id])).stderr).not.toContain('cached');
  });

  it('a variable of train re-runs train only, on the cached prepare artifacts, saying why', async () => {
    const ran = await sb.dstack(['run', 'train', '--epochs', '2']);
    const run = await sb.lastRun();
    expect(ran.stderr).toContain(`train: runs anew: variable epochs 1 → 2 (since job ${first.jobs[1]!.id})\n`);
    expect(ran.stderr).not.toContain('prepare: runs anew');
    // A dry run says it too, and nothing of it with --no-cache.
    const planned = await sb.dstack(['run', 'train', '--epochs', '3', '--dry-run']);
    expect(planned.stdout).toContain(
      `cache          runs anew: variable epochs 2 → 3 (since job ${run.jobs[1]!.id})\n`,
    );
    const noCache = await sb.dstack(['run', 'train', '--epochs', '3', '--dry-run', '--no-cache']);
    expect(noCache.stdout).toMatch(/cache +runs anew\n/);
    expect(run.jobs[0]!.cachedFrom).toBe(first.jobs[0]!.id);
    expect(run.jobs[1]!.cachedFrom).toBeUndefined();
    const model = await artifact(run.jobs[1]!.id, 'model/model.txt');
    expect(model).toBe((await artifact(first.jobs[0]!.id, 'data/data.txt')) + 'epochs=2\n');
    // The status table shows the override on the run and on train's job, not on prepare's, which has no such variable.
    const rows = (await sb.dstack(['status', run.name])).stdout.split('\n');
    expect(rows.find((r) => r.startsWith(run.name))).toContain('--epochs 2');
    expect(rows.find((r) => r.includes(run.jobs[1]!.id))).toContain('--epochs 2');
    expect(rows.find((r) => r.includes(run.jobs[0]!.id))).not.toContain('--epochs');
  });

  it('inputs: editing a file outside them re-runs nothing; editing one inside re-runs', async () => {
    await sb.write({ 'README.md': 'edited readme' });
    await sb.dstack(['run', 'prepare']);
    expect((await sb.lastRun()).jobs[0]!.cachedFrom).toBe(first.jobs[0]!.id);
    await sb.write({ 'src/prepare.txt': 'v2' });
    const ran = await sb.dstack(['run', 'prepare']);
    expect((await sb.lastRun()).jobs[0]!.cachedFrom).toBeUndefined();
    expect(ran.stderr).toMatch(/^prepare: runs anew: src\/prepare\.txt changed \(since job \w{12}\)$/m);
    await sb.write({ 'src/prepare.txt': 'v1' });
  });

  it("inputs: the python provider's script counts whatever they say", async () => {
    expect((await sb.dstack(['run', 'py'])).code).toBe(0);
    const ran = (await sb.lastRun()).jobs[0]!;
    await sb.write({ 'README.md': 'edited again' });
    expect((await sb.dstack(['run', 'py'])).stderr).toContain(`py: cached, reusing job ${ran.id}`);
    await sb.write({ 'train.py': 'print("train v2")\n' });
    const edited = await sb.dstack(['run', 'py']);
    expect(edited.stdout).toContain('train v2\n');
    expect((await sb.lastRun()).jobs[0]!.cachedFrom).toBeUndefined();
  });

  it('inputs: a folder counts every file under it', async () => {
    const ran = await sb.dstack(['run', 'folder']);
    expect(ran.stdout).toBe('v1\n');
    const job = (await sb.lastRun()).jobs[0]!;
    expect((await sb.dstack(['run', 'folder'])).stderr).toContain(`folder: cached, reusing job ${job.id}`);
    await sb.write({ 'src/prepare.txt': 'v2' });
    try {
      const edited = await sb.dstack(['run', 'folder']);
      expect(edited.stdout).toBe('v2\n');
      expect((await sb.lastRun()).jobs[0]!.cachedFrom).toBeUndefined();
    } finally {
      await sb.write({ 'src/prepare.txt': 'v1' });
    }
  });

  it('inputs: a glob that matches no file is refused, at its line, before the run and its dry run', async () => {
    const before = await sb.lastRun();
    const misspelt = WORKFLOWS.replace('inputs: [src/**, .dstack/**]', 'inputs: [scr/**, .dstack/**]');
    await sb.write({ '.dstack/workflows.yaml': misspelt });
    const error =
      "error: .dstack/workflows.yaml:3:14: input 'scr/**' of workflow 'prepare' matches no file of the project, so " +
      'the cache would reuse its results whatever happened to the files it was meant to name; correct it or remove it\n';
    try {
      const dry = await sb.dstack(['run', 'prepare', '--dry-run']);
      expect([dry.code, dry.stdout, dry.stderr]).toEqual([2, '', error]);
      const run = await sb.dstack(['run', 'train']);
      expect([run.code, run.stderr]).toEqual([2, error]);
      expect((await sb.lastRun()).name).toBe(before.name);
    } finally {
      await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    }
    expect((await sb.dstack(['run', 'train'])).stderr).not.toContain('error');
  });

  it('--no-cache runs everything anew', async () => {
    await sb.dstack(['run', 'train', '--no-cache']);
    expect((await sb.lastRun()).jobs.map((j) => j.cachedFrom)).toEqual([undefined, undefined]);
  });

  it("a dependency made anew is not paired with a train made from the old one's artifacts", async () => {
    await sb.dstack(['run', 'train']); // a train made from the newest prepare
    await sb.dstack(['run', 'prepare', '--no-cache']);
    const data = await artifact((await sb.lastRun()).jobs[0]!.id, 'data/data.txt');
    const run = await sb.dstack(['run', 'train']);
    expect(run.stderr).toContain('prepare: cached');
    expect(run.stderr).not.toContain('train: cached');
    const trained = await sb.lastRun();
    expect(await artifact(trained.jobs[1]!.id, 'model/model.txt')).toBe(`${data}epochs=1\n`);
    await sb.dstack(['run', 'train']);
    expect((await sb.lastRun()).jobs.map((j) => j.cachedFrom)).toEqual(trained.jobs.map((j) => j.cachedFrom ?? j.id));
  });

  it('two identical runs at once run the shared job once', async () => {
    const [a, b] = await Promise.all([
      sb.dstack(['run', 'train', '--delay', '1', '-d']),
      sb.dstack(['run', 'train', '--delay', '1', '-d']),
    ]);
    const names = [a.stdout.trim(), b.stdout.trim()];
    const runs = await waitUntil(async () => {
      const views = await Promise.all(names.map((n) => sb.runView(n)));
      return views.every((v) => v.status === 'DONE') && views;
    });
    const prepares = runs.map((r) => r.jobs[0]!);
    const ran = prepares.filter((j) => !j.cachedFrom);
    expect(ran).toHaveLength(1);
    expect(prepares.find((j) => j.cachedFrom)!.cachedFrom).toBe(ran[0]!.id);
  });

  it('a followed run that joins a running job says whose log it shows, before its first line', async () => {
    const leader = (await sb.dstack(['run', 'prepare', '--size', '77', '--delay', '2', '-d'])).stdout.trim();
    const joined = await sb.dstack(['run', 'prepare', '--size', '77', '--delay', '2']);
    expect(joined.code).toBe(0);
    const source = (await sb.runView(leader)).jobs[0]!.id;
    const note = `[dstack] prepare: cached; the log of job ${source} (run ${leader})\n`;
    expect(joined.stderr).toContain(note);
    expect(joined.stderr.indexOf(note)).toBeLessThan(joined.stderr.indexOf('saved artifacts'));
  });

  it('never reuses a job whose artifacts were deleted', async () => {
    await sb.dstack(['run', 'prepare', '--size', '77']);
    const original = (await sb.lastRun()).jobs[0]!;
    await sb.dstack(['run', 'prepare', '--size', '77']);
    expect((await sb.lastRun()).jobs[0]!.cachedFrom).toBe(original.id);
    // Lose the artifact's blob from the server's store.
    const content = await artifact(original.id, 'data/data.txt');
    const blobs = join(sb.home, 'server', 'artifacts');
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(content).digest('hex');
    await rm(join(blobs, sha.slice(0, 2), sha));
    await sb.dstack(['run', 'prepare', '--size', '77']);
    const rerun = (await sb.lastRun()).jobs[0]!;
    expect(rerun.cachedFrom).toBeUndefined();
    expect(rerun.status).toBe('DONE');
  });

  it('reuses one consistent result when non-deterministic writers race', async () => {
    const runs = await Promise.all([
      sb.dstack(['run', 'prepare', '--size', '5', '--no-cache', '-d']),
      sb.dstack(['run', 'prepare', '--size', '5', '--no-cache', '-d']),
    ]);
    const jobs = await waitUntil(async () => {
      const views = await Promise.all(runs.map((r) => sb.runView(r.stdout.trim())));
      return views.every((v) => v.status === 'DONE') && views.map((v) => v.jobs[0]!);
    });
    const outputs = await Promise.all(jobs.map((j) => artifact(j.id, 'data/data.txt')));
    expect(outputs[0]).not.toBe(outputs[1]); // $RANDOM: each wrote its own
    await sb.dstack(['run', 'prepare', '--size', '5']);
    const reused = (await sb.lastRun()).jobs[0]!;
    const source = jobs.findIndex((j) => j.id === reused.cachedFrom);
    expect(source).toBeGreaterThanOrEqual(0);
    expect(await artifact(reused.id, 'data/data.txt')).toBe(outputs[source]);
  });

  it('never reuses a job that was running when the server was killed (it is stopped), and ends its processes', async () => {
    const name = (await sb.dstack(['run', 'prepare', '--size', '99', '--delay', '30', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.runView(name)).status === 'RUNNING');
    const runningId = (await sb.runView(name)).jobs[0]!.id;
    await waitUntil(async () => jobProcesses(runningId).length > 0); // its shell and sleep, found as they are ended below
    const info = JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { pid: number };
    process.kill(info.pid, 'SIGKILL');
    await waitUntil(async () => {
      try {
        process.kill(info.pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    // The new server's runner stops it, its artifacts saved: resumable, never a cached result.
    const lost = await waitUntil(async () => {
      const job = (await sb.runView(name)).jobs[0]!;
      return job.status === 'STOPPED' && job;
    });
    expect(lost.reason).toBe(`stopped: its runner restarted; its artifacts were saved (dstack resume ${name})`);
    // The job's shell and its sleep are gone.
    await waitUntil(async () => jobProcesses(lost.id).length === 0);
    // Its folder goes once its end is reported.
    await waitUntil(
      async () => !(await readdir(join(sb.home, 'runner', 'jobs')).catch((): string[] => [])).includes(lost.id),
    );
    await sb.dstack(['run', 'prepare', '--size', '99']);
    const rerun = (await sb.lastRun()).jobs[0]!;
    expect(rerun.cachedFrom).toBeUndefined();
    expect(rerun.status).toBe('DONE');
  });
});

describe("the cache and dstack's own config files", () => {
  let sb: Sandbox;
  const workflows = [
    'workflows:',
    '  - name: prep',
    '    commands: ["mkdir -p data; echo rows=$rows > data/d.txt"]',
    '    artifacts: [data]',
    '  - name: train',
    '    depends-on: [prep]',
    '    commands: ["cat data/d.txt; echo lr=$lr"]',
    '',
  ].join('\n');
  const variables = (lr: string) => `variables:\n  prep:\n    rows: 10\n  train:\n    lr: ${lr}\n`;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': workflows, '.dstack/variables.yaml': variables('0.1') });
  });
  afterAll(() => sb.dispose());

  const run = async () => {
    expect((await sb.dstack(['run', 'train'])).code).toBe(0);
    return (await sb.lastRun()).jobs.map((j) => j.cachedFrom ?? 'ran');
  };

  it("editing train's variable in variables.yaml, or a comment in workflows.yaml, runs nothing it does not change", async () => {
    expect(await run()).toEqual(['ran', 'ran']);
    const [prep] = (await sb.lastRun()).jobs;
    await sb.write({ '.dstack/variables.yaml': variables('0.3') });
    expect(await run()).toEqual([prep!.id, 'ran']);
    await sb.write({ '.dstack/workflows.yaml': `# the pipeline\n${workflows}` });
    const [, train] = (await sb.lastRun()).jobs;
    expect(await run()).toEqual([prep!.id, train!.id]);
    // What the files say still counts, through each job's resolved spec.
    await sb.write({ '.dstack/variables.yaml': variables('0.3').replace('rows: 10', 'rows: 20') });
    expect(await run()).toEqual(['ran', 'ran']);
  });
});

describe('the cache and the environment of host jobs on the local server', () => {
  it('runs a host job again under another PATH or venv, and reuses it under the same one', async () => {
    const sb = await Sandbox.create();
    try {
      const tool = (version: string) => `#!/bin/sh\necho tool ${version}\n`;
      await sb.write({
        '.dstack/workflows.yaml': 'workflows:\n  - name: t\n    commands: [mytool]\n',
        'bin1/mytool': tool('v1'),
        'bin2/mytool': tool('v2'),
      });
      const { chmod } = await import('node:fs/promises');
      for (const bin of ['bin1', 'bin2']) await chmod(join(sb.root, bin, 'mytool'), 0o755);
      // Outside the project's code: the same code, other programs on the PATH.
      const path = (bin: string) => ({ PATH: `${join(sb.root, bin)}:${process.env['PATH']}` });
      const run = async (env: Record<string, string>) => {
        const result = await sb.dstack(['run', 't'], { env });
        expect(result.code).toBe(0);
        return result;
      };
      expect((await run(path('bin1'))).stdout).toContain('tool v1');
      const second = await run(path('bin2'));
      expect(second.stderr).not.toContain('cached');
      expect(second.stdout).toContain('tool v2');
      expect((await run(path('bin1'))).stderr).toContain('t: cached');
      expect((await run({ ...path('bin1'), VIRTUAL_ENV: join(sb.root, 'venv') })).stderr).not.toContain('cached');
    } finally {
      await sb.dispose();
    }
  });
});
