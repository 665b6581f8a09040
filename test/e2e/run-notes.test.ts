/**
 * What the CLI says of a run beyond its output, through the real CLI: why a job waits for a busy
 * runner, how to go on with a stopped run, why an aborted job's log ends, and untracked files
 * that make the code large.
 */
import { execFileSync } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointingWorkflow } from './checkpointing.js';
import { Sandbox, waitUntil } from './harness.js';

const WORKFLOWS = `workflows:
  - name: hog
    commands:
      - echo ready
      - sleep 600
    resources:
      cpu: ${availableParallelism()}
  - name: small
    commands: [echo small ran]
  - name: after
    depends-on: [small]
    commands: [echo after ran]
${checkpointingWorkflow('sleepy')}  - name: partial
    commands:
      - printf 'epoch 3 of 10...'
      - sleep 600
`;

describe('notes of a run', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  });
  afterAll(() => sb.dispose());

  const runView = async (name: string) => await sb.runView(name);
  const logsHave = (name: string, text: string) =>
    waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes(text));

  /** The CLI started in the background: its stderr as it comes, and its end. */
  const follow = (args: string[]) => {
    const child = sb.spawn(args);
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return {
      stderr: () => stderr,
      /** Wait for `text` on stderr (the CLI's notes), or on stdout (the jobs' output) with `out`. */
      waitFor: (text: string, out = false) =>
        waitUntil(
          async () => (out ? stdout : stderr).includes(text),
          30_000,
          async () => stderr,
        ),
      ended: async () => ({ code: await exited, stderr }),
    };
  };

  it('says that a job waits for a free runner, and a job for dependencies the follow does not show', async () => {
    const hog = (await sb.dstack(['run', 'hog', '-d'])).stdout.trim();
    try {
      await waitsForHog(hog);
    } finally {
      await sb.dstack(['stop', '-a', hog]); // the runner free, whatever happened
    }
  });

  /** `hog` holds every CPU of the runner: a run of `after` waits. */
  const waitsForHog = async (hog: string) => {
    await logsHave(hog, 'ready');
    const run = follow(['run', 'after']);
    const busy = '[dstack] small waits: waiting for a free runner\n';
    await run.waitFor(busy);
    const name = /^run (\S+): small/.exec(run.stderr())![1]!;
    const [small, after] = (await runView(name)).jobs;
    // The run's own `after` waits for `small`, which the follow shows: no word of it.
    expect(run.stderr()).toBe(`run ${name}: small (${small!.id}), after (${after!.id})\n${busy}`);
    // `dstack status` says the same of each, from the same rule.
    const table = (await sb.dstack(['status', name])).stdout;
    expect(table).toMatch(new RegExp(`${small!.id} +small .*SUBMITTED waiting for a free runner\\n`));
    expect(table).toMatch(new RegExp(`${after!.id} +after .*SUBMITTED waiting for small\\n`));
    // Followed alone, `after` says what it waits for; read without -f, so does `small`.
    const logs = follow(['logs', '-f', after!.id]);
    await logs.waitFor(`[dstack] after waits: waiting for small\n`);
    expect(await sb.dstack(['logs', small!.id])).toEqual({
      code: 0,
      stdout: '',
      stderr: `[dstack] small (${small!.id}) is SUBMITTED: waiting for a free runner\n`,
    });
    // The runner free, the run goes on and ends; each note was said once.
    expect((await sb.dstack(['stop', '-a', hog])).code).toBe(0);
    const ended = await run.ended();
    expect(ended.code).toBe(0);
    expect(ended.stderr.split(busy)).toHaveLength(2);
    expect((await logs.ended()).code).toBe(0);
  };

  it('says nothing of waiting for a job that starts at once', async () => {
    const run = follow(['run', 'after', '--no-cache']);
    const ended = await run.ended();
    expect(ended.code).toBe(0);
    expect(ended.stderr).not.toContain('waits');
  });

  it('tells how to resume a run that a stop ended, where it is followed and in dstack stop', async () => {
    const run = follow(['run', 'sleepy', '--no-cache']);
    await run.waitFor('ready', true);
    const name = /^run (\S+): sleepy/.exec(run.stderr())![1]!;
    const stop = await sb.dstack(['stop', name]);
    expect(stop.stderr).toBe(`once stopped, 'dstack resume ${name}' starts it again\n`);
    const hint = `resume it with 'dstack resume ${name}': it starts again with the artifacts it saved\n`;
    const ended = await run.ended();
    expect(ended.code).toBe(1);
    expect(ended.stderr).toMatch(new RegExp(`\\nrun ${name} STOPPED\\n${hint}$`));
    // `dstack logs -f` of the stopped run ends with it too.
    const logs = await sb.dstack(['logs', '-f', name]);
    expect(logs.stderr).toMatch(new RegExp(`ended STOPPED: stopped by user\\n${hint}$`));
    // An abort keeps nothing to go on from: no hint.
    const resumed = await sb.dstack(['resume', name]);
    expect(resumed.code).toBe(0);
    await logsHave(name, 'starting from 1');
    const abort = await sb.dstack(['stop', '-a', name]);
    expect(abort.stdout).toMatch(/sleepy ABORTING/);
    expect(abort.stderr).toBe('');
  });

  it("ends an aborted job's log with a note that says why it stops there", async () => {
    const name = (await sb.dstack(['run', 'partial', '-d'])).stdout.trim();
    await logsHave(name, 'epoch 3 of 10...');
    expect((await sb.dstack(['stop', '-a', name])).code).toBe(0);
    await waitUntil(async () => (await runView(name)).status === 'ABORTED');
    expect(await sb.dstack(['logs', name])).toEqual({
      code: 0,
      stdout: 'epoch 3 of 10...\n',
      stderr: '[dstack] aborted: its commands were killed, and no artifacts are kept\n',
    });
  });

  it('names the untracked files that make the code large, and not those git ignores', async () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: sb.root });
    git('init', '-q');
    git('add', '.dstack');
    git('commit', '-qm', 'workflows');
    // Sparse: the size is what counts, and zeros hash fast.
    const big = async (path: string, bytes: number) => {
      await sb.write({ [path]: '' });
      const file = await open(join(sb.root, path), 'r+');
      await file.truncate(bytes);
      await file.close();
    };
    await big('rawdata/big.csv', 45_000_000);
    // What else stderr says: why the job runs anew (its files changed), not the note under test.
    const notes = (stderr: string) => stderr.replace(/^small: runs anew: .*\n/gm, '');
    const under = await sb.dstack(['run', 'small', '-d']);
    expect(notes(under.stderr)).toBe(''); // 45 MB: under the threshold
    await big('rawdata/more.csv', 10_000_000);
    await big('model.bin', 6_000_000);
    const over = await sb.dstack(['run', 'small', '-d']);
    expect(notes(over.stderr)).toBe(
      'note: files git does not track add 61MB to the code of every run (rawdata/ 55MB, model.bin 6.0MB); ' +
        'if jobs do not need them, have git ignore them (.gitignore)\n',
    );
    expect(over.code).toBe(0);
    await sb.write({ '.gitignore': 'rawdata/\n' });
    expect(notes((await sb.dstack(['run', 'small', '-d'])).stderr)).toBe('');
  });
});

describe('a project in a folder its git repo ignores', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': 'workflows:\n  - name: show\n    commands: [cat data.txt, ls -A .dstack]\n',
      'data.txt': 'the data\n',
    });
  });
  afterAll(() => sb.dispose());

  it('runs with every file of the folder, as outside git, and says so', async () => {
    // A scratch folder of a repo (or a home under a dotfiles repo that ignores '*').
    const repo = dirname(sb.root);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    await writeFile(join(repo, '.gitignore'), '*\n!.gitignore\n');
    git('init', '-q');
    git('add', '.gitignore');
    git('commit', '-qm', 'ignore all');
    git('remote', 'add', 'origin', 'https://example.com/me/dotfiles.git');
    const run = await sb.dstack(['run', 'show']);
    // The job had no file: `cat: data.txt: No such file or directory`.
    expect([run.code, run.stdout]).toEqual([0, 'the data\nworkflows.yaml\n']);
    expect(run.stderr).toContain(
      `note: the git repository at ${repo} ignores every file of the project folder ${sb.root}, so the run's ` +
        'code is every file in the folder, as outside git (and no commit is recorded)\n',
    );
    const name = /run (\S+):/.exec(run.stderr)![1]!;
    expect((await sb.runView(name)).repo).toEqual({ root: sb.root });
    // The folder is the project, for listings too: not example.com/me/dotfiles/project.
    const status = await sb.dstack(['status']);
    expect(status.stdout).toContain(name);
    expect(status.stdout).not.toContain('PROJECT');
  });
});
