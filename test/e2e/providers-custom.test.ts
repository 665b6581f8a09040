/**
 * Custom providers through the real CLI: a Python program from .dstack/providers.yaml that
 * runs in a docker image at plan time, a JavaScript module from .dstack/providers/, and a
 * provider from another repository; each fans a workflow out into jobs that run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { useDockerEnvironment } from './docker-env.js';
import { Sandbox } from './harness.js';

const SHARDS_PY = `import json, os
inp = json.load(open(os.environ["DSTACK_PROVIDER_INPUT"]))
n = int(inp["workflow"]["params"]["shards"])
jobs = [{"name": f"shard-{i}", "image": "dstack-test/busybox",
         "commands": [f"mkdir -p parts && echo $(( {i} * {i} )) > parts/{i}.txt"], "artifacts": [f"parts/{i}.txt"]}
        for i in range(n)]
jobs.append({"name": "sum", "commands": ["cat parts/*.txt | awk '{ s += $1 } END { print s }'"], "depends_on": [j["name"] for j in jobs]})
json.dump({"jobs": jobs}, open(os.environ["DSTACK_PROVIDER_OUTPUT"], "w"))
print(f"made {len(jobs)} jobs in", os.getcwd())
`;

const SPLIT_MJS = `export default {
  name: 'split',
  schema: (z) => z.object({ words: z.string() }),
  createJobs(workflow) {
    const words = workflow.params.words.split(' ');
    const jobs = words.map((w, i) => ({ name: 'w' + i, commands: ['echo word ' + w] }));
    jobs.push({ name: 'done', commands: ['echo ' + words.length + ' words'], depends_on: jobs.map((j) => j.name) });
    return jobs;
  },
};
`;

describe('custom providers', () => {
  let sb: Sandbox;
  let restore: () => void;
  let remote: string;

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    remote = await mkdtemp(join(tmpdir(), 'dstack-provider-repo-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: remote, stdio: 'pipe' });
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(join(remote, '.dstack/providers'), { recursive: true });
    await writeFile(
      join(remote, '.dstack/providers/replicas.mjs'),
      'export default { name: "replicas", createJobs: (wf) => Array.from({ length: Number(wf.params.replicas) }, ' +
        '(_, i) => ({ name: "r" + i, commands: ["echo replica " + i] })) };\n',
    );
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-qm', 'replicas provider');
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/providers.yaml':
        'providers:\n  - name: shards\n    image: dstack-test/python:3.11\n    commands:\n' +
        '      - python3 providers/shards.py\n  - name: broken\n    commands:\n      - exit 4\n',
      'providers/shards.py': SHARDS_PY,
      '.dstack/providers/split.mjs': SPLIT_MJS,
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: squares',
        '    provider: shards',
        '    shards: 4',
        '  - name: words',
        '    provider: split',
        '    words: to be or not',
        '  - name: replicas',
        `    provider: {repo: ${remote}, name: replicas}`,
        '    replicas: 2',
        '  - name: broken',
        '    provider: broken',
        '',
      ].join('\n'),
    });
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    restore?.();
    await rm(remote, { recursive: true, force: true });
  });

  it('plans a Python provider in its image at plan time and shows its jobs with --dry-run', async () => {
    const r = await sb.dstack(['run', 'squares', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Plan for 'squares': 5 jobs/);
    expect(r.stdout).toMatch(/^5\. squares\/sum \(workflow squares\)$/m);
    expect(r.stdout).toMatch(/depends on +squares\/shard-0 \(job 1\)/);
  });

  it('runs the jobs of a Python provider from providers.yaml: shards in docker, then the sum', async () => {
    const r = await sb.dstack(['run', 'squares'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/squares\/sum +\| 14\n/); // 0 + 1 + 4 + 9
    const [run] = await sb.json<RunView[]>(['status']);
    expect(run!.jobs.map((j) => [j.ref, j.spec.image ?? null, j.status])).toEqual([
      ['squares/shard-0', 'dstack-test/busybox', 'DONE'],
      ['squares/shard-1', 'dstack-test/busybox', 'DONE'],
      ['squares/shard-2', 'dstack-test/busybox', 'DONE'],
      ['squares/shard-3', 'dstack-test/busybox', 'DONE'],
      ['squares/sum', null, 'DONE'],
    ]);
  });

  it('runs the jobs of a JavaScript provider from .dstack/providers/', async () => {
    const r = await sb.dstack(['run', 'words']);
    expect(r.code, r.stderr).toBe(0);
    for (const w of ['to', 'be', 'or', 'not']) expect(r.stdout).toContain(`| word ${w}\n`);
    expect(r.stdout).toMatch(/words\/done +\| 4 words/);
    // Each job is named by its ref, in the run's first line and in its summary.
    expect(r.stderr).toMatch(/^run \S+: words\/w0 \([0-9a-f]{12}\), /);
    expect(r.stderr).toMatch(/^[0-9a-f]{12} +words\/done +DONE/m);
    // And in the tags list's jobs (it said `words, words, …`).
    const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
    expect((await sb.dstack(['tags', 'add', 'split-words', run!.name])).code).toBe(0);
    expect((await sb.dstack(['tags', 'list'])).stdout).toContain('words/w0, words/w1, words/w2, words/w3, words/done');
  });

  it('runs the jobs of a provider taken from another repository', async () => {
    const r = await sb.dstack(['run', 'replicas']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replicas\/r0 +\| replica 0/);
    expect(r.stdout).toMatch(/replicas\/r1 +\| replica 1/);
  });

  it('submits nothing when a provider fails, and names it', async () => {
    const before = await sb.json<RunView[]>(['status', '--last', '100']);
    const r = await sb.dstack(['run', 'broken']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error: .dstack/workflows.yaml:12:15: provider 'broken' (.dstack/providers.yaml:6:5) of workflow 'broken' " +
        'failed (exit code 4)',
    );
    expect(await sb.json<RunView[]>(['status', '--last', '100'])).toHaveLength(before.length);
  });
});
