/**
 * Which folder is the project: the nearest whose `.dstack/` holds a project file. `~/.dstack`,
 * dstack's own state (the default DSTACK_HOME), and a stray empty `.dstack/` are not projects.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox } from './harness.js';

describe('the project root', () => {
  let sb: Sandbox;
  let home: string; // the user's HOME, whose .dstack is DSTACK_HOME
  let env: Record<string, string>;
  let outside: string; // a folder under HOME in no project

  beforeAll(async () => {
    sb = await Sandbox.create();
    home = dirname(sb.root);
    env = { HOME: home, DSTACK_HOME: join(home, '.dstack') };
    outside = join(home, 'w');
    await mkdir(outside);
    await mkdir(join(sb.root, 'sub', '.dstack'), { recursive: true });
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: hello\n    commands:\n      - echo hello\n' });
  });
  afterAll(async () => {
    await sb.dstack(['server', 'stop', '--force'], { env });
    await sb.dispose();
  });

  it('is not the home folder, whose .dstack is dstack’s state: outside a project is in none', async () => {
    const ran = await sb.dstack(['run', 'hello'], { env });
    expect(ran.code, ran.stderr).toBe(0);
    const run = await sb.dstack(['run', 'hello'], { env, cwd: outside });
    expect(run.stderr).toBe(
      `error: no .dstack/workflows.yaml in ${outside} or its parents; run dstack from your project folder\n`,
    );
    expect(run.code).toBe(2);
    // Every project's runs, as outside any project.
    const status = await sb.dstack(['status', '--last', '5', '--json'], { env, cwd: outside });
    expect((JSON.parse(status.stdout) as RunView[]).map((r) => r.project)).toEqual([sb.root]);
    const prune = await sb.dstack(['prune', '--older-than', '0s', '--dry-run'], { env, cwd: outside });
    expect(prune.stderr).toBe(
      `error: no .dstack/workflows.yaml in ${outside} or its parents: dstack prune deletes the runs of the ` +
        "project it stands in; run it from your project folder, or add --all-projects to prune every project's runs\n",
    );
    expect(prune.code).toBe(2);
  });

  it('is not a folder whose config files are named .yml: every command that needs the project says so', async () => {
    const yml = join(home, 'yml');
    await mkdir(join(yml, '.dstack'), { recursive: true });
    await writeFile(join(yml, '.dstack', 'workflows.yml'), 'workflows:\n  - name: a\n    commands: [echo a]\n');
    const error = `error: found .dstack/workflows.yml in ${yml}: dstack reads .dstack/workflows.yaml; rename it\n`;
    expect(await sb.dstack(['run', 'a'], { env, cwd: yml })).toEqual({ code: 2, stdout: '', stderr: error });
    expect(await sb.dstack(['prune', '--older-than', '0s', '--dry-run'], { env, cwd: yml })).toEqual({
      code: 2,
      stdout: '',
      stderr: error,
    });
    const help = await sb.dstack(['run', '--help'], { env, cwd: yml });
    expect(help.stdout).toMatch(
      /\n\nFound \.dstack\/workflows\.yml in .*: dstack reads \.dstack\/workflows\.yaml; rename it\.\n$/,
    );
  });

  it('is not taken from a folder above one whose config files are named .yml, nor read without its variables', async () => {
    const nested = join(sb.root, 'nested');
    await sb.write({ 'nested/.dstack/workflows.yml': 'workflows:\n  - name: hello\n    commands: [echo nested]\n' });
    const run = await sb.dstack(['run', 'hello', '--dry-run'], { env, cwd: nested });
    expect(run.stderr).toBe(
      `error: found .dstack/workflows.yml in ${nested}: dstack reads .dstack/workflows.yaml; rename it\n`,
    );
    expect(run.code).toBe(2);
    const vars = join(home, 'vars');
    await mkdir(join(vars, '.dstack'), { recursive: true });
    await writeFile(join(vars, '.dstack', 'workflows.yaml'), 'workflows:\n  - name: a\n    commands: [echo $n]\n');
    await writeFile(join(vars, '.dstack', 'variables.yml'), 'variables:\n  global:\n    n: 1\n');
    expect(await sb.dstack(['run', 'a', '--dry-run'], { env, cwd: vars })).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: found .dstack/variables.yml in ${vars}: dstack reads .dstack/variables.yaml; rename it\n`,
    });
  });

  it('is said to be misnamed by the commands that list or delete in it, and by dstack init', async () => {
    const nested = join(sb.root, 'listed');
    await sb.write({ 'listed/.dstack/workflows.yml': 'workflows:\n  - name: hello\n    commands: [echo nested]\n' });
    const found = `found .dstack/workflows.yml in ${nested}: dstack reads .dstack/workflows.yaml; rename it`;
    // Listed: the project above's runs, with a warning that says so.
    const status = await sb.dstack(['status'], { env, cwd: nested });
    expect([status.code, status.stderr]).toEqual([
      0,
      `warning: ${found}; listed here: the runs of project ${sb.root}\n`,
    ]);
    const tags = await sb.dstack(['tags', 'list'], { env, cwd: nested });
    expect([tags.code, tags.stderr]).toEqual([0, `warning: ${found}; listed here: the tags of project ${sb.root}\n`]);
    // --all asked for every project's: nothing misleads.
    expect((await sb.dstack(['status', '--all'], { env, cwd: nested })).stderr).toBe('');
    // In no project: every project's.
    const yml = join(home, 'listed-yml');
    await mkdir(join(yml, '.dstack'), { recursive: true });
    await writeFile(join(yml, '.dstack', 'workflows.yml'), 'workflows: []\n');
    const alone = await sb.dstack(['status'], { env, cwd: yml });
    expect(alone.stderr).toBe(
      `warning: found .dstack/workflows.yml in ${yml}: dstack reads .dstack/workflows.yaml; rename it; ` +
        "listed here: every project's runs\n",
    );
    // Deleting a tag of the project above would be deleting in the wrong place.
    expect(await sb.dstack(['tags', 'delete', 'best'], { env, cwd: nested })).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: ${found} (or name the tag's project: --project KEY)\n`,
    });
    const git = (...args: string[]) => execFileSync('git', args, { cwd: nested });
    git('init', '-q');
    git('remote', 'add', 'origin', 'https://example.com/team/listed.git');
    const init = await sb.dstack(['init'], { env, cwd: nested });
    expect([init.code, init.stderr]).toEqual([0, `warning: ${found} before 'dstack run'\n`]);
  });

  it('is not hidden by a stray empty .dstack folder inside it', async () => {
    const sub = join(sb.root, 'sub');
    const ran = await sb.dstack(['run', 'hello', '--dry-run'], { env, cwd: sub });
    expect(ran.code, ran.stderr).toBe(0);
    const status = await sb.dstack(['status', '--last', '5', '--json'], { env, cwd: sub });
    expect((JSON.parse(status.stdout) as RunView[]).map((r) => r.project)).toEqual([sb.root]);
  });
});
