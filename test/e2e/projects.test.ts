/**
 * Two projects of one user on one embedded server: `status`, tags and tag dependencies
 * stay within the project the CLI stands in, as dstack's runs were always per repo.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox } from './harness.js';

const workflows = (project: string) => `workflows:
  - name: prepare
    commands:
      - mkdir -p data
      - echo "data of ${project}" > data/data.txt
    artifacts: [data]
  - name: train
    depends-on: [prepare:best]
    commands:
      - cat data/data.txt
`;

describe('projects', () => {
  let sb: Sandbox;
  let other: string; // a clone of a remote, in a folder of its repo
  let outside: string; // no project at all
  const OTHER = 'example.com/team/other#ml';

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': workflows('project') });
    outside = dirname(sb.root);
    const repo = join(outside, 'other');
    other = join(repo, 'ml');
    await mkdir(join(other, '.dstack'), { recursive: true });
    await writeFile(join(other, '.dstack', 'workflows.yaml'), workflows('other'));
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', 'git@example.com:team/other.git']);
  });
  afterAll(() => sb.dispose());

  const inOther = (args: string[]) => sb.dstack(args, { cwd: other });
  const runsIn = async (cwd: string, args: string[]) => {
    const r = await sb.dstack([...args, '--json'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as RunView[]).map((v) => v.name);
  };

  let mine: string;
  let theirs: string;
  it('gives each project its own tag of the same name, and each dependency its own project’s run', async () => {
    expect((await sb.dstack(['run', 'prepare', '--tag', 'best'])).code).toBe(0);
    mine = (await runsIn(sb.root, ['status', '--last', '1']))[0]!;
    const tagged = await inOther(['run', 'prepare', '--tag', 'best']);
    expect(tagged.stderr).not.toContain('already exists');
    expect(tagged.code, tagged.stderr).toBe(0);
    theirs = (await runsIn(other, ['status', '--last', '1']))[0]!;
    expect(theirs).not.toBe(mine);

    const dry = await inOther(['run', 'train', '--dry-run']);
    expect(dry.stdout).toContain(`prepare:best (tag; run ${theirs})`);
    const train = await inOther(['run', 'train']);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toContain('data of other');
    expect((await sb.dstack(['run', 'train'])).stdout).toContain('data of project');
  });

  it("status lists the project's runs; --all and a folder outside any project list every project's", async () => {
    expect(await runsIn(sb.root, ['status', '--last', '10'])).toHaveLength(2);
    expect(await runsIn(other, ['status', '--last', '10'])).toHaveLength(2);
    expect(await runsIn(other, ['status', '--last', '10', '--all'])).toHaveLength(4);
    expect(await runsIn(outside, ['status', '--last', '10'])).toHaveLength(4);
    // Scripts get each run's project as the server keyed it.
    const json = JSON.parse((await sb.dstack(['status', '--last', '10', '--all', '--json'])).stdout) as RunView[];
    expect(Object.fromEntries(json.map((v) => [v.name, v.project]))).toMatchObject({
      [theirs]: OTHER,
      [mine]: sb.root,
    });

    const table = (await sb.dstack(['status', '--last', '10', '--all'])).stdout;
    expect(table).toMatch(/^RUN\s+PROJECT\s+TAG\s+JOB/m);
    expect(table).toMatch(new RegExp(`^${theirs}\\s+${OTHER}\\s+best\\s`, 'm'));
    expect(table).toMatch(new RegExp(`^${mine}\\s+${sb.root}\\s+best\\s`, 'm'));
    expect((await sb.dstack(['status', '--last', '10'])).stdout).not.toContain('PROJECT');
  });

  it("tags list shows the project's tags, and every project's with --all or outside one", async () => {
    const here = (await sb.dstack(['tags', 'list'])).stdout;
    expect(here).toMatch(new RegExp(`^best\\s+${mine}\\s+prepare`, 'm'));
    expect(here).not.toContain(theirs);
    const all = (await sb.dstack(['tags', 'list'], { cwd: outside })).stdout;
    expect(all).toMatch(new RegExp(`^best\\s+${theirs}\\s+${OTHER}\\s+prepare`, 'm'));
    expect(all).toMatch(new RegExp(`^best\\s+${mine}\\s+${sb.root}\\s+prepare`, 'm'));
  });

  it('deletes a tag within the project; outside one only when a single project has it', async () => {
    const ambiguous = await sb.dstack(['tags', 'delete', 'best'], { cwd: outside });
    expect(ambiguous.stderr).toContain(
      `error: tag 'best' is on 2 runs: ${OTHER} (run ${theirs}); ${sb.root} (run ${mine}); ` +
        "run 'dstack tags delete best' in its project, or add --project KEY",
    );
    expect(ambiguous.code).toBe(1);

    expect((await inOther(['tags', 'delete', 'best'])).stdout).toBe(
      `deleted tag best of run ${theirs} (project ${OTHER})\n`,
    );
    const again = await inOther(['tags', 'delete', 'best']);
    expect(again.stderr).toContain(
      `error: tag 'best' does not exist in project ${OTHER}; it is in ${sb.root}; see 'dstack tags list --all'`,
    );
    expect(again.code).toBe(1);
    const train = await inOther(['run', 'train']);
    expect(train.stderr).toContain(`depends-on 'prepare:best': tag 'best' does not exist in project ${OTHER}`);

    // Outside a project, the one project that has the tag is taken: the answer says which.
    const single = await sb.dstack(['tags', 'delete', 'best'], { cwd: outside });
    expect([single.code, single.stdout]).toEqual([0, `deleted tag best of run ${mine} (project ${sb.root})\n`]);
    expect((await sb.dstack(['tags', 'list'], { cwd: outside })).stdout).toContain('No tags yet');
    const none = await sb.dstack(['tags', 'delete', 'best'], { cwd: outside });
    expect(none.stderr).toContain("error: tag 'best' does not exist; see 'dstack tags list'");
    expect(none.code).toBe(1);
  });

  it('tags add puts the tag in the run’s project, wherever the CLI stands', async () => {
    const r = await sb.dstack(['tags', 'add', 'v1', theirs]);
    expect(r.stdout).toContain(`tagged run ${theirs} as v1 (project ${OTHER})`);
    expect((await inOther(['tags', 'list'])).stdout).toMatch(new RegExp(`^v1\\s+${theirs}`, 'm'));
    // A run has one tag: another is refused, naming the commands that rename it, which do.
    const moved = await sb.dstack(['tags', 'add', 'v2', theirs]);
    expect([moved.code, moved.stderr]).toEqual([
      1,
      `error: run ${theirs} has the tag 'v1' already, and a run has one tag; to rename it, delete the old one ` +
        `first (a depends-on ':v1' then finds no run): dstack tags delete v1 --project ${OTHER} && ` +
        `dstack tags add v2 ${theirs}\n`,
    ]);
    expect((await sb.dstack(['tags', 'delete', 'v1', '--project', OTHER])).code).toBe(0);
    expect((await sb.dstack(['tags', 'add', 'v2', theirs])).stdout).toBe(
      `tagged run ${theirs} as v2 (project ${OTHER})\n`,
    );
    // Taken in the run's project: the advice names it, and works from here.
    const [train] = await runsIn(other, ['status', '--last', '1']);
    const taken = await sb.dstack(['tags', 'add', 'v2', train!]);
    expect(taken.stderr).toContain(
      `error: tag 'v2' already exists in project ${OTHER} (run ${theirs}); ` +
        `delete it first: dstack tags delete v2 --project ${OTHER}`,
    );
    expect((await sb.dstack(['tags', 'delete', 'v2', '--project', OTHER])).stdout).toContain('deleted tag v2');
    expect((await sb.dstack(['tags', 'add', 'v2', train!])).code).toBe(0);
    expect((await sb.dstack(['tags', 'list'])).stdout).toContain(
      `No tags yet in project ${sb.root} ('dstack tags list --all' lists every project's).`,
    );
  });

  it("prunes the project's runs only; outside a project only with --all-projects, saying what it keeps and why", async () => {
    const ours = await runsIn(sb.root, ['status', '--last', '10']);
    const [train, prepare] = await runsIn(other, ['status', '--last', '10']); // newest first
    const keptLine = (by: string) =>
      `kept 1 run whose jobs kept runs reuse from the cache or depend on (${prepare}, used by ${by}): ` +
      'it goes once those runs are pruned\n';
    // Their train, tagged v2, depends on their prepare: both stay.
    const theirDry = await inOther(['prune', '--older-than', '0s', '--dry-run']);
    expect(theirDry.stdout).toMatch(new RegExp(`^would prune 0 runs of project ${OTHER}, \\d+ blobs? `));
    expect(theirDry.stdout.endsWith(keptLine(train!))).toBe(true);

    const refused = await sb.dstack(['prune', '--older-than', '0s', '--dry-run'], { cwd: outside });
    const noProject = (cwd: string) =>
      `error: no .dstack/workflows.yaml in ${cwd} or its parents: dstack prune deletes the runs of the project ` +
      "it stands in; run it from your project folder, or add --all-projects to prune every project's runs\n";
    expect(refused.stderr).toBe(noProject(outside));
    expect(refused.code).toBe(2);
    // A .dstack/ without a project file (dstack's own state, a stray folder) is no project either.
    const stray = join(outside, 'stray');
    await mkdir(join(stray, '.dstack', 'server'), { recursive: true });
    const strayRefused = await sb.dstack(['prune', '--older-than', '0s', '--dry-run'], { cwd: stray });
    expect(strayRefused.stderr).toBe(noProject(stray));
    const everywhere = await sb.dstack(['prune', '--older-than', '0s', '--dry-run', '--all-projects'], {
      cwd: outside,
    });
    expect(everywhere.stdout).toMatch(new RegExp(`^would prune 2 runs of every project \\(${ours.join(', ')}\\), `));
    expect(everywhere.stdout.endsWith(keptLine(train!))).toBe(true);

    // --json: the server's answer, every run named.
    const json = await sb.dstack(['prune', '--older-than', '0s', '--dry-run', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, project: sb.root, runs: ours });

    const pruned = await sb.dstack(['prune', '--older-than', '0s']);
    expect(pruned.stdout).toMatch(new RegExp(`^pruned 2 runs of project ${sb.root} \\(${ours.join(', ')}\\), `));
    expect(await runsIn(sb.root, ['status', '--last', '10'])).toEqual([]);
    expect(await runsIn(other, ['status', '--last', '10'])).toEqual([train, prepare]);
  });

  it('points to the runs and tags a folder had before its git remote was added, whose key it no longer has', async () => {
    const folder = join(outside, 'moved');
    await mkdir(join(folder, '.dstack'), { recursive: true });
    await writeFile(join(folder, '.dstack', 'workflows.yaml'), workflows('moved'));
    const git = (...args: string[]) => execFileSync('git', ['-C', folder, ...args]);
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'first');
    const inMoved = (args: string[]) => sb.dstack(args, { cwd: folder });
    expect((await inMoved(['run', 'prepare', '--tag', 'best'])).code).toBe(0);
    const [prepared] = await runsIn(folder, ['status', '--last', '1']);
    git('remote', 'add', 'origin', 'https://example.com/team/moved.git');
    const key = 'example.com/team/moved';

    const status = await inMoved(['status']);
    expect(status.stdout).toBe(
      `No runs in project ${key} yet ('dstack status --all' lists every project's). Start one with: dstack run WORKFLOW\n` +
        `Your runs of this folder from before it had a git remote are in project ${folder}: ` +
        'a project is its git remote, or its folder without one. See them with: dstack status --all\n',
    );
    const tags = await inMoved(['tags', 'list']);
    expect(tags.stdout).toBe(
      `No tags yet in project ${key} ('dstack tags list --all' lists every project's). Tag a finished run with: dstack tags add TAG RUN\n` +
        `Your tags of this folder from before it had a git remote are in project ${folder}: ` +
        'a project is its git remote, or its folder without one. See them with: dstack tags list --all\n',
    );
    const hint =
      `you have it in project ${folder} (run ${prepared}): a tag is of its run's project, which is its git remote, ` +
      'or its folder without one (adding or changing a remote starts a new project); ' +
      "tag a run of this one (dstack tags add best RUN), or see 'dstack tags list --all'";
    const train = await inMoved(['run', 'train']);
    expect(train.stderr).toBe(
      `error: .dstack/workflows.yaml:8:18: depends-on 'prepare:best': tag 'best' does not exist in project ${key}; ${hint}\n`,
    );
    expect(train.code).toBe(2);
    const dry = await inMoved(['run', 'train', '--dry-run']);
    expect(dry.stderr).toBe(
      `error: .dstack/workflows.yaml:8:18: depends-on 'prepare:best': no run has the tag 'best' in project ${key}; ${hint}\n`,
    );
    // Once the project has runs of its own, its listing is as ever.
    expect((await inMoved(['run', 'prepare'])).code).toBe(0);
    expect((await inMoved(['status'])).stdout).not.toContain('Your runs');
  });

  it('says a project without runs has none, and where the others are', async () => {
    const fresh = join(outside, 'fresh');
    await mkdir(join(fresh, '.dstack'), { recursive: true });
    await writeFile(join(fresh, '.dstack', 'workflows.yaml'), workflows('fresh'));
    const r = await sb.dstack(['status'], { cwd: fresh });
    expect(r.stdout).toContain(
      `No runs in project ${fresh} yet ('dstack status --all' lists every project's). Start one with: dstack run WORKFLOW`,
    );
  });

  it('shows a project folder named with control characters escaped where it has no runs or tags', async () => {
    const odd = join(outside, 'odd\x1b[31mred');
    await mkdir(join(odd, '.dstack'), { recursive: true });
    await writeFile(join(odd, '.dstack', 'workflows.yaml'), workflows('odd'));
    const shown = join(outside, 'odd\\x1b[31mred');
    const status = await sb.dstack(['status'], { cwd: odd });
    expect(status.stdout).toBe(
      `No runs in project ${shown} yet ('dstack status --all' lists every project's). Start one with: dstack run WORKFLOW\n`,
    );
    const tags = await sb.dstack(['tags', 'list'], { cwd: odd });
    expect(tags.stdout).toBe(
      `No tags yet in project ${shown} ('dstack tags list --all' lists every project's). Tag a finished run with: dstack tags add TAG RUN\n`,
    );
  });
});
