/** Tags as dependencies, prune, and the exact stop / abort / resume rules, through the real CLI. */
import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox, waitUntil } from './harness.js';

const WORKFLOWS = `workflows:
  - name: prepare
    commands:
      - mkdir -p data
      - echo "data $RANDOM" > data/data.txt
    artifacts: [data]
  - name: train
    depends-on: [prepare:best]
    commands:
      - cat data/data.txt
  - name: broken
    commands: [exit 1]
  - name: stubborn
    commands:
      - trap 'echo ignoring SIGTERM' TERM
      - echo ready
      - while true; do sleep 0.1 || true; done
  - name: slow-prepare
    commands:
      - echo ready
      - sleep 30
  - name: after-slow
    depends-on: [slow-prepare]
    commands: [echo after]
  - name: wrong-tag
    depends-on: [after-slow:best]
    commands: [echo never]
  - name: brief
    commands: [sleep 2]
`;

describe('tags, prune, stop', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  });
  afterAll(() => sb.dispose());

  const view = async (name: string) => await sb.runView(name);

  it('plans a dry run without a server, saying tags and the cache were not checked', async () => {
    const r = await sb.dstack(['run', 'train', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('prepare:best (tag; resolved when the run is submitted)');
    expect(r.stdout).toContain('(no server is running: tag dependencies and the cache were not checked)');
  });

  it('refuses a tag dependency that does not exist at its place in the file, before anything runs', async () => {
    const r = await sb.dstack(['run', 'train']);
    expect(r.stderr).toContain(
      `error: .dstack/workflows.yaml:8:18: depends-on 'prepare:best': tag 'best' does not exist in project ${sb.root}; see 'dstack tags list'`,
    );
    expect(r.code).toBe(2);
    expect((await sb.dstack(['status', '--last', '5'])).stdout).toContain(`No runs in project ${sb.root} yet`);
    // Its dry run, with the server now running, shows the plan and then the same refusal.
    const dry = await sb.dstack(['run', 'train', '--dry-run']);
    expect(dry.stdout).toContain('prepare:best (tag; no run has this tag)');
    expect(dry.stderr).toBe(
      "error: .dstack/workflows.yaml:8:18: depends-on 'prepare:best': no run has the tag 'best'; see 'dstack tags list'\n",
    );
    expect(dry.code).toBe(2);
  });

  let tagged: RunView;
  it('tags a run when it finishes with run --tag, and lists it', async () => {
    const run = await sb.dstack(['run', 'prepare', '--tag', 'best']);
    expect(run.code).toBe(0);
    tagged = await sb.lastRun();
    expect(run.stderr).toMatch(new RegExp(`run ${tagged.name} DONE\ntagged run ${tagged.name} as best\n$`));
    expect((await sb.dstack(['status', tagged.name])).stdout).toMatch(new RegExp(`^${tagged.name}\\s+best\\s+`, 'm'));
    expect(tagged.tag).toBe('best');
    const list = await sb.dstack(['tags', 'list']);
    expect(list.stdout).toMatch(new RegExp(`best\\s+${tagged.name}\\s+prepare`));
  });

  it('warns in a dry run that a --tag another run holds would refuse the run', async () => {
    const dry = await sb.dstack(['run', 'prepare', '--tag', 'best', '--dry-run']);
    expect(dry.stderr).toBe(
      `warning: the run would be refused: --tag best: run ${tagged.name} has it; delete it first ` +
        '(dstack tags delete best), or give another --tag\n',
    );
    expect(dry.code).toBe(0);
    const free = await sb.dstack(['run', 'prepare', '--tag', 'other', '--dry-run']);
    expect(free.stderr).toBe('');
  });

  it('refuses a tag dependency on a workflow the tagged run did not run, at its place in the file, in a dry run too', async () => {
    for (const dry of [[], ['--dry-run']]) {
      const r = await sb.dstack(['run', 'wrong-tag', ...dry]);
      expect(r.stderr).toBe(
        `error: .dstack/workflows.yaml:26:18: depends-on 'after-slow:best': run '${tagged.name}' (tag 'best') has no job of workflow 'after-slow'\n`,
      );
      expect(r.code).toBe(2);
    }
  });

  it('shows in a dry run where a tag resolves and which jobs the cache would reuse', async () => {
    const before = await sb.dstack(['run', 'train', '--dry-run']);
    expect(before.stdout).toContain(`prepare:best (tag; run ${tagged.name})`);
    expect(before.stdout).toMatch(/cache +runs anew/);
    const again = await sb.dstack(['run', 'prepare', '--dry-run']);
    expect(again.stdout).toMatch(new RegExp(`cache +reuses job ${tagged.jobs[0]!.id}`));
    const anew = await sb.dstack(['run', 'prepare', '--dry-run', '--no-cache']);
    expect(anew.stdout).toMatch(/cache +runs anew/);
    expect(anew.stdout).not.toContain('reuses job');
  });

  it("takes a tagged run's artifacts for a tag dependency without running it", async () => {
    const r = await sb.dstack(['run', 'train']);
    expect(r.code).toBe(0);
    const data = await sb.dstack(['logs', tagged.jobs[0]!.id]);
    void data;
    const run = await sb.lastRun();
    expect(run.jobs.map((j) => j.workflow)).toEqual(['train']);
    expect(run.jobs[0]!.dependsOn).toEqual([tagged.jobs[0]!.id]);
    const out = join(sb.root, '..', 'tagged');
    await sb.dstack(['artifacts', tagged.jobs[0]!.id, '-o', out]);
    expect(r.stdout).toBe(await readFile(join(out, 'data/data.txt'), 'utf8'));
  });

  it('refuses a duplicate tag, a failed run and an unfinished run', async () => {
    const same = await sb.dstack(['tags', 'add', 'best', tagged.name]);
    expect(same.stdout).toBe(`run ${tagged.name} has the tag best already (project ${sb.root})\n`);
    expect(same.code).toBe(0);
    await sb.dstack(['run', 'prepare']);
    const other = await sb.lastRun();
    const dup = await sb.dstack(['tags', 'add', 'best', other.name]);
    expect(dup.stderr).toContain(
      `error: tag 'best' already exists in project ${sb.root} (run ${tagged.name}); ` +
        `delete it first: dstack tags delete best --project ${sb.root}`,
    );
    expect(dup.code).toBe(1);
    await sb.dstack(['run', 'broken']);
    const failed = await sb.lastRun();
    const r = await sb.dstack(['tags', 'add', 'nope', failed.name]);
    expect(r.stderr).toContain(
      `error: run '${failed.name}' is FAILED: only a run whose jobs are all DONE can be tagged`,
    );
    const running = (await sb.dstack(['run', 'stubborn', '-d'])).stdout.trim();
    const u = await sb.dstack(['tags', 'add', 'nope', running]);
    expect(u.stderr).toMatch(new RegExp(`error: run '${running}' is (SUBMITTED|DOWNLOADING|RUNNING): only a run`));
    await sb.dstack(['stop', '-a', running]);
    const dupRun = await sb.dstack(['run', 'prepare', '--tag', 'best']);
    expect(dupRun.stderr).toContain(`error: tag 'best' already exists in project ${sb.root} (run ${tagged.name})`);
  });

  it('says when run --tag did not tag the run because it did not end DONE', async () => {
    const failed = await sb.dstack(['run', 'broken', '--tag', 'nope']);
    const failedName = /^run (\S+): broken/.exec(failed.stderr)![1]!;
    expect(failed.stderr).toContain(
      `warning: run ${failedName} is not tagged nope: only a run whose jobs are all DONE is tagged\n`,
    );
    expect(failed.stderr).not.toContain('tagged run');
    expect(failed.code).toBe(1);
  });

  it('keeps a tag for the run submitted with run -d --tag until it ends: another run or a tags add is refused it meanwhile', async () => {
    const detached = (await sb.dstack(['run', 'brief', '-d', '--tag', 'raced', '--no-cache'])).stdout.trim();
    const promised =
      `tag 'raced' is promised to run ${detached} in project ${sb.root}, which has not finished ` +
      '(dstack run --tag raced): choose another tag, wait for that run, or let that run end untagged: ' +
      `dstack tags delete raced --project ${sb.root}`;
    // Before, both were taken: the run that ended first got the tag, and the detached one, ending later, silently none.
    const second = await sb.dstack(['run', 'prepare', '--tag', 'raced', '--no-cache']);
    expect([second.code, second.stderr]).toEqual([1, `error: ${promised}\n`]);
    expect((await sb.dstack(['run', 'prepare', '--no-cache'])).code).toBe(0);
    const done = await sb.lastRun();
    const added = await sb.dstack(['tags', 'add', 'raced', done.name]);
    expect([added.code, added.stderr]).toEqual([1, `error: ${promised}\n`]);
    const tagged = await waitUntil(async () => {
      const run = await view(detached);
      return run.tag === 'raced' && run;
    });
    expect(tagged.status).toBe('DONE');
    await sb.dstack(['tags', 'delete', 'raced']); // the prune below counts the tagged runs
  });

  it('resumes a run whose --tag another run took while it was stopped only with --no-tag, then untagged', async () => {
    const stopped = (await sb.dstack(['run', 'slow-prepare', '-d', '--tag', 'taken', '--no-cache'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', stopped])).stdout.includes('ready'));
    expect((await sb.dstack(['stop', stopped])).code).toBe(0);
    await waitUntil(async () => (await view(stopped)).status === 'STOPPED');
    expect((await sb.dstack(['run', 'prepare', '--tag', 'taken', '--no-cache'])).code).toBe(0);
    const owner = await sb.lastRun();
    const refused = await sb.dstack(['resume', stopped]);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      `error: run ${stopped} was submitted with --tag taken: tag 'taken' already exists in project ${sb.root} ` +
        `(run ${owner.name}); delete it first: dstack tags delete taken --project ${sb.root}; ` +
        `resume it without the tag with dstack resume --no-tag ${stopped}\n`,
    ]);
    const resumed = await sb.dstack(['resume', '--no-tag', stopped]);
    expect(resumed.stdout).toMatch(/ slow-prepare SUBMITTED\n$/);
    expect((await sb.dstack(['stop', stopped])).code).toBe(0);
    const ended = await waitUntil(async () => {
      const run = await view(stopped);
      return run.status === 'STOPPED' && run;
    });
    expect([ended.tag, (await view(owner.name)).tag]).toEqual([undefined, 'taken']);
    await sb.dstack(['tags', 'delete', 'taken']); // the prune below counts the tagged runs
  });

  it('refuses a tag name that depends-on could not name, saying the rule', async () => {
    const r = await sb.dstack(['tags', 'add', 'has space', tagged.name]);
    expect(r.stderr).toBe(
      "error: invalid tag 'has space' (dstack tags add TAG RUN): use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100\n",
    );
    expect(r.code).toBe(2);
  });

  it('moves a tag after deleting it', async () => {
    await sb.dstack(['run', 'prepare', '--no-cache']);
    const newer = await sb.lastRun();
    expect((await sb.dstack(['tags', 'delete', 'best'])).stdout).toContain('deleted tag best');
    expect((await sb.dstack(['tags', 'add', 'best', newer.name])).stdout).toContain(`tagged run ${newer.name} as best`);
    const missing = await sb.dstack(['tags', 'delete', 'never-was']);
    expect(missing.stderr).toContain("error: tag 'never-was' does not exist");
    tagged = newer;
  });

  it('kills a job that ignores SIGTERM after the --grace period, and stops it', async () => {
    const name = (await sb.dstack(['run', 'stubborn', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
    const started = Date.now();
    await sb.dstack(['stop', '--grace', '1', name]);
    const job = await waitUntil(async () => {
      const j = (await view(name)).jobs[0]!;
      return j.status === 'STOPPED' && j;
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(job.reason).toBe('stopped by user');
    const logs = await sb.dstack(['logs', name]);
    expect(logs.stdout).toContain('ignoring SIGTERM');
    expect(logs.stderr).toContain('[dstack] still running 1 s after SIGTERM (its grace period): sending SIGKILL\n');
    const bad = await sb.dstack(['stop', '--grace', 'soon', name]);
    expect(bad.stderr).toContain("invalid --grace 'soon': expected seconds");
  });

  it('stopping a job stops the jobs waiting on it as "dependency stopped"; stopping a run stops them all', async () => {
    const name = (await sb.dstack(['run', 'after-slow', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
    const [slow, after] = (await view(name)).jobs;
    // The status table says what a waiting job waits for.
    const table = (await sb.dstack(['status', name])).stdout;
    expect(table).toMatch(new RegExp(`${after!.id} +after-slow .*SUBMITTED waiting for slow-prepare\\n`));
    await sb.dstack(['stop', slow!.id, '--grace', '0']);
    const ended = await waitUntil(async () => {
      const jobs = (await view(name)).jobs;
      return jobs.every((j) => j.status === 'STOPPED' || j.status === 'FAILED') && jobs;
    });
    expect(ended.map((j) => [j.status, j.reason])).toEqual([
      ['STOPPED', 'stopped by user'],
      ['STOPPED', `dependency stopped: slow-prepare (${slow!.id})`],
    ]);

    const whole = (await sb.dstack(['run', 'after-slow', '-d', '--no-cache'])).stdout.trim();
    await sb.dstack(['stop', whole, '--grace', '0']);
    const stopped = await waitUntil(async () => {
      const jobs = (await view(whole)).jobs;
      return jobs.every((j) => j.status === 'STOPPED') && jobs;
    });
    expect(stopped.map((j) => j.reason)).toEqual(['stopped by user', 'stopped by user']);
  });

  it('prunes old untagged runs with their logs, keeping tagged runs and what kept runs need', async () => {
    await sb.dstack(['run', 'prepare', '--no-cache']);
    const source = await sb.lastRun();
    await sb.dstack(['run', 'prepare']);
    const reuser = await sb.lastRun();
    expect(reuser.jobs[0]!.cachedFrom).toBe(source.jobs[0]!.id);
    await sb.dstack(['tags', 'add', 'keep', reuser.name]);
    const before = await sb.json<RunView[]>(['status', '--last', '100']);
    // Runs with a stopped job can still be resumed: they stay, named, unless asked for.
    const stopped = before.filter((v) => !v.tag && v.jobs.some((j) => j.status === 'STOPPED')).map((v) => v.name);
    expect(stopped.length).toBeGreaterThan(0);
    const keptLine =
      `kept ${stopped.length} resumable run${stopped.length === 1 ? '' : 's'} (${stopped.join(', ')}): ` +
      (stopped.length === 1
        ? 'it can be resumed (dstack resume RUN); --include-stopped prunes it too\n'
        : 'they can be resumed (dstack resume RUN); --include-stopped prunes them too\n');
    // The untagged run whose job the tagged one reuses stays, and the answer says why.
    const reusedLine =
      `kept 1 run whose jobs kept runs reuse from the cache or depend on (${source.name}, used by ${reuser.name}): ` +
      'it goes once those runs are pruned\n';
    const dry = await sb.dstack(['prune', '--older-than', '0s', '--dry-run']);
    expect(dry.stdout).toMatch(
      new RegExp(
        `^would prune \\d+ runs of project ${sb.root} \\([^)]+\\), \\d+ blobs? \\([^;)]+; those from the last hour stay\\) ` +
          '\\(a dry run: nothing was deleted\\)\\n',
      ),
    );
    expect(dry.stdout.endsWith(reusedLine + keptLine)).toBe(true);
    expect(await sb.json<RunView[]>(['status', '--last', '100'])).toEqual(before);
    const r = await sb.dstack(['prune', '--older-than', '0s']);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith(reusedLine + keptLine)).toBe(true);
    const kept = await sb.json<RunView[]>(['status', '--last', '100']);
    expect(kept.map((v) => v.name).sort()).toEqual([tagged.name, source.name, reuser.name, ...stopped].sort());
    const all = await sb.dstack(['prune', '--older-than', '0s', '--include-stopped']);
    expect(all.stdout).toContain(
      `pruned ${stopped.length} run${stopped.length === 1 ? '' : 's'} of project ${sb.root} (`,
    );
    const after = await sb.json<RunView[]>(['status', '--last', '100']);
    // Tagged runs stay, and so does the untagged run whose job the tagged one reuses.
    expect(after.map((v) => v.name).sort()).toEqual([tagged.name, source.name, reuser.name].sort());
    const gone = before.filter((v) => !after.some((a) => a.name === v.name) && !stopped.includes(v.name));
    expect(gone.length).toBeGreaterThan(0);
    expect(r.stdout).toContain(`pruned ${gone.length} run${gone.length === 1 ? '' : 's'} of project ${sb.root} (`);
    expect(dry.stdout).toContain(
      `would prune ${gone.length} run${gone.length === 1 ? '' : 's'} of project ${sb.root} (`,
    );
    const logs = await sb.dstack(['logs', gone[0]!.name]);
    expect(logs.stderr).toContain(`no run or job named '${gone[0]!.name}'`);
    const logFiles = await readdir(join(sb.home, 'server', 'logs'));
    for (const job of gone.flatMap((v) => v.jobs)) expect(logFiles).not.toContain(`${job.id}.jsonl`);

    // Once blobs are old enough, those no kept job refers to are deleted, and kept artifacts still download.
    // So are the temp files an upload that a crash cut off left in the store (test/storage covers the crash itself).
    const blobDir = join(sb.home, 'server', 'artifacts');
    const shards = await readdir(blobDir);
    await writeFile(join(blobDir, shards[0]!, `${'ab'.repeat(32)}.1a2b3c-7.tmp`), 'x'.repeat(2048));
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const dir of shards) {
      for (const f of await readdir(join(blobDir, dir))) await utimes(join(blobDir, dir, f), old, old);
    }
    const wouldBe = (await sb.dstack(['prune', '--older-than', '7d', '--dry-run'])).stdout;
    const second = await sb.dstack(['prune', '--older-than', '7d']);
    expect(second.stdout).toMatch(
      new RegExp(
        `^pruned 0 runs of project ${sb.root}, [1-9]\\d* blobs? \\([^)]+\\), 1 temp file of interrupted uploads \\(2\\.0KB\\)\\n`,
      ),
    );
    // The dry run counted exactly the blobs the prune then deleted.
    expect(wouldBe).toBe(
      `would prune ${/pruned (.*?), 1 temp/.exec(second.stdout)![1]} (a dry run: nothing was deleted)\n`,
    );
    expect((await readdir(join(blobDir, shards[0]!))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const out = join(sb.root, '..', 'after-prune');
    const dl = await sb.dstack(['artifacts', tagged.jobs[0]!.id, '-o', out]);
    expect(dl.code).toBe(0);
    expect(await readFile(join(out, 'data/data.txt'), 'utf8')).toMatch(/^data \d+\n$/);
    const bad = await sb.dstack(['prune', '--older-than', 'a week']);
    expect(bad.stderr).toContain("invalid --older-than 'a week': use a duration like 7d");
  });
});
