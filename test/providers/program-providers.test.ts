/** Custom providers that are programs (.dstack/providers.yaml), run at plan time on this machine. */
import { execFileSync } from 'node:child_process';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepo, planError, planProject, tempDir, writeFiles } from './helpers.js';

const SHARDS_PY = `import json, os
inp = json.load(open(os.environ["DSTACK_PROVIDER_INPUT"]))
with open(os.path.join(os.environ["DSTACK_PROJECT_DIR"], "..", "input-seen.json"), "w") as f:
    json.dump(inp, f)
n = int(inp["workflow"]["params"]["shards"])
jobs = [{"name": f"shard-{i}", "commands": [f"python3 work.py {i} {n}"], "artifacts": [f"out/{i}.txt"],
         "resources": {"memory": "1GB"}} for i in range(n)]
jobs.append({"name": "merge", "commands": ["cat out/*.txt"], "depends_on": [j["name"] for j in jobs],
             "environment": {"PARTS": str(n)}})
json.dump({"jobs": jobs}, open(os.environ["DSTACK_PROVIDER_OUTPUT"], "w"))
`;

/** A provider whose output is given by the workflow's `answer` parameter (JSON), or that fails as told. */
const ECHO_PY = `import json, os, sys, time
p = json.load(open(os.environ["DSTACK_PROVIDER_INPUT"]))["workflow"]["params"]
if p.get("sleep"): time.sleep(float(p["sleep"]))
if p.get("fail"):
    print("cannot shard: no data", file=sys.stderr)
    sys.exit(int(p["fail"]))
if p.get("raw") is not None:
    open(os.environ["DSTACK_PROVIDER_OUTPUT"], "w").write(p["raw"])
elif p.get("answer") is not None:
    open(os.environ["DSTACK_PROVIDER_OUTPUT"], "w").write(p["answer"])
`;

describe('program providers', () => {
  let root: string;
  beforeAll(async () => {
    root = join(await tempDir(), 'project');
    await writeFiles(root, {
      '.dstack/providers.yaml':
        'providers:\n  - name: shards\n    commands:\n      - python3 providers/shards.py\n' +
        '  - name: echo\n    commands:\n      - python3 providers/echo.py\n',
      'providers/shards.py': SHARDS_PY,
      'providers/echo.py': ECHO_PY,
      '.dstack/variables.yaml': 'variables:\n  train:\n    epochs: "3"\n',
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: prepare',
        '    commands: [echo prepare]',
        '  - name: train',
        '    provider: shards',
        '    shards: 3',
        '    depends-on: [prepare]',
        '    environment:',
        '      MODE: fast',
        '    artifacts: [out]',
        '  - name: echo',
        '    provider: echo',
        '    answer: ""',
        '',
      ].join('\n'),
    });
  });
  afterAll(() => rm(join(root, '..'), { recursive: true, force: true }));

  const echo = (params: Record<string, string>) =>
    writeFiles(root, {
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: echo',
        '    provider: echo',
        ...Object.entries(params).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
        '',
      ].join('\n'),
    });

  it('fans one workflow out into several jobs, and dependents wait for its final one', async () => {
    const p = await planProject(root, 'train');
    expect(p.jobs.map((j) => [j.ref, j.dependsOn.map((d) => ('ref' in d ? d.ref : '?'))])).toEqual([
      ['prepare', []],
      ['train/shard-0', ['prepare']],
      ['train/shard-1', ['prepare']],
      ['train/shard-2', ['prepare']],
      ['train/merge', ['train/shard-0', 'train/shard-1', 'train/shard-2']],
    ]);
    const shard = p.jobs[1]!;
    expect(shard).toMatchObject({
      workflow: 'train',
      provider: 'shards',
      commands: ['python3 work.py 0 3'],
      artifacts: ['out/0.txt'],
      env: { MODE: 'fast' },
      variables: { epochs: '3' },
      params: { shards: '3' },
    });
    expect(shard.resources.memory).toBe(1e9);
    expect(p.jobs[4]!.env).toEqual({ MODE: 'fast', PARTS: '3' });
    expect(p.jobs[4]!.artifacts).toEqual(['out']);
  });

  it('gives the program the workflow, its variables, its dependencies and the repo in DSTACK_PROVIDER_INPUT', async () => {
    await planProject(root, 'train');
    const input = JSON.parse(await readFile(join(root, '..', 'input-seen.json'), 'utf8'));
    expect(input).toEqual({
      version: 1,
      provider: { name: 'shards', repo: null },
      workflow: {
        name: 'train',
        params: { shards: '3' },
        image: null,
        commands: [],
        environment: { MODE: 'fast' },
        artifacts: ['out'],
        resources: { cpu: 1, memory: 0, gpu: 0 },
        depends_on: ['prepare'],
      },
      variables: { epochs: '3' },
      repo: {},
      project_dir: root,
    });
  });

  it("gives the program the repo's commit, branch, remote and dirtiness when the project is in git", async () => {
    const project = join(await tempDir(), 'project');
    await cp(root, project, { recursive: true });
    await gitRepo(project, {}, 'exp');
    execFileSync('git', ['remote', 'add', 'origin', 'https://example.com/team/models.git'], { cwd: project });
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: project }).toString().trim();
    const seen = async () => JSON.parse(await readFile(join(project, '..', 'input-seen.json'), 'utf8')).repo;
    await planProject(project, 'train');
    expect(await seen()).toEqual({
      commit,
      remote: 'https://example.com/team/models.git',
      branch: 'exp',
      dirty: false,
    });
    await writeFiles(project, { 'notes.txt': 'untracked\n' });
    await planProject(project, 'train');
    expect(await seen()).toEqual({ commit, remote: 'https://example.com/team/models.git', branch: 'exp', dirty: true });
  });

  it('names the provider, its exit code and its last output when it fails; nothing is planned', async () => {
    await echo({ fail: '3' });
    const e = await planError(root, 'echo');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:3:15: provider 'echo' (.dstack/providers.yaml:5:5) of workflow 'echo' failed " +
        '(exit code 3); its last output:\n  cannot shard: no data',
    );
  });

  it('names the field of an invalid job spec', async () => {
    await echo({ answer: JSON.stringify({ jobs: [{ name: 'a', commands: 'echo a' }] }) });
    expect((await planError(root, 'echo')).detail).toBe(
      "provider 'echo' (.dstack/providers.yaml:5:5) of workflow 'echo' returned an invalid job spec: " +
        'jobs.0.commands: expected array, received string',
    );
    await echo({ answer: JSON.stringify({ jobs: [{ name: 'a', comands: ['echo a'] }] }) });
    expect((await planError(root, 'echo')).detail).toBe(
      "provider 'echo' (.dstack/providers.yaml:5:5) of workflow 'echo' returned an invalid job spec: " +
        "jobs.0: unknown key 'comands' (did you mean 'commands'?)",
    );
    await echo({ answer: JSON.stringify([{ commands: ['x'], resources: { gpus: 1 } }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.resources: unknown key 'gpus' \(did you mean 'gpu'\?\)$/,
    );
    await echo({ answer: JSON.stringify({ jobs: [{ commands: ['x'] }], extra: 1 }) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: unknown key 'extra' \(valid keys: jobs\)$/,
    );
    await echo({
      answer: JSON.stringify([
        { name: 'a', commands: ['x'], depends_on: ['b'] },
        { name: 'c', commands: ['y'] },
      ]),
    });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.depends_on\.0: 'b' is not a job of this provider$/,
    );
    await echo({ answer: JSON.stringify([{ commands: ['x'] }, { commands: ['y'] }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.name: required when there are several jobs$/,
    );
    await echo({
      answer: JSON.stringify([
        { name: 'a', commands: ['x'], depends_on: ['b'] },
        { name: 'b', commands: ['y'], depends_on: ['a'] },
      ]),
    });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: depends_on: a cycle: echo\/a -> echo\/b -> echo\/a$/,
    );
    await echo({ answer: JSON.stringify([{ commands: ['x'], artifacts: ['../up'] }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.artifacts\.0: '\.\.\/up' may not contain '\.\.'$/,
    );
    await echo({ answer: JSON.stringify([{ commands: ['x'], artifacts: ['out/$run_name', 'out/*.pt'] }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.artifacts\.1: 'out\/\*\.pt' is a glob, which dstack does not expand: an artifact is one folder or file, .* \(name the folder 'out'\)$/,
    );
    await echo({ answer: JSON.stringify([{ commands: ['x'], image: 'busybox', artifacts: ['/workspace/out'] }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.artifacts\.0: '\/workspace\/out' is inside \/workspace, the job's workspace: name it relative to the project \('out'\)$/,
    );
    await echo({ answer: JSON.stringify([{ commands: ['x'], image: 'busybox', artifacts: ['/proc/x'] }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.artifacts\.0: '\/proc\/x' is in \/proc, a file system the kernel gives every container/,
    );
    await echo({ answer: JSON.stringify([{ commands: ['x'], resources: { memory: 'lots' } }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.resources\.memory: 'lots' is not a size like 512MB or 16GB$/,
    );
    // A number is bytes in a job spec (16 meant 16GB), a size under 6MiB too little to run in.
    await echo({ answer: JSON.stringify([{ commands: ['x'], resources: { memory: 16 } }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.resources\.memory: 16 bytes is under 6MiB, the least memory a job runs in \(a number is bytes: did you mean "16GB"\?\)$/,
    );
    await echo({ answer: JSON.stringify([{ commands: ['x'], resources: { memory: '3MB' } }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /invalid job spec: jobs\.0\.resources\.memory: '3MB' is under 6MiB, the least memory a job runs in$/,
    );
    await echo({ answer: JSON.stringify({ jobs: [] }) });
    expect((await planError(root, 'echo')).detail).toMatch(/invalid job spec: jobs: at least one job$/);
  });

  it("refuses a job's environment variable name that is no name, as a workflow's", async () => {
    for (const name of ['XX=1', '', '1BAD']) {
      await echo({ answer: JSON.stringify([{ commands: ['env'], environment: { OK: 'a', [name]: 'y' } }]) });
      expect((await planError(root, 'echo')).detail).toBe(
        "provider 'echo' (.dstack/providers.yaml:5:5) of workflow 'echo' returned an invalid job spec: " +
          `jobs.0.environment: variable name '${name}' is not valid: use letters, digits and '_', not starting with a digit`,
      );
    }
    await echo({ answer: JSON.stringify([{ commands: ['env'], environment: { _Ok_2: 'a' } }]) });
    expect((await planProject(root, 'echo')).jobs[0]!.env).toEqual({ _Ok_2: 'a' });
  });

  it("refuses a job's environment variable that dstack sets, which the job would get dstack's value of", async () => {
    for (const name of ['DSTACK_RUN_NAME', 'DSTACK_JOB_ID', 'DSTACK_WORKFLOW', 'run_name']) {
      await echo({ answer: JSON.stringify([{ commands: ['env'], environment: { [name]: 'mine' } }]) });
      expect((await planError(root, 'echo')).detail).toBe(
        "provider 'echo' (.dstack/providers.yaml:5:5) of workflow 'echo' returned an invalid job spec: " +
          `jobs.0.environment: variable '${name}' is one dstack sets for every job: rename it (a value may name it: $${name})`,
      );
    }
    await echo({ answer: JSON.stringify([{ commands: ['env'], environment: { WANDB_NAME: 'r-$DSTACK_RUN_NAME' } }]) });
    expect((await planProject(root, 'echo')).jobs[0]!.env).toEqual({ WANDB_NAME: 'r-$DSTACK_RUN_NAME' });
  });

  it('refuses an absolute artifact path for a job on the host, as for any workflow', async () => {
    await echo({ answer: JSON.stringify([{ commands: ['x'], artifacts: ['/opt/env'] }]) });
    expect((await planError(root, 'echo')).detail).toMatch(
      /^artifact path '\/opt\/env' of workflow 'echo' is absolute/,
    );
  });

  it('says when the program writes nothing, or what is not JSON', async () => {
    await echo({});
    expect((await planError(root, 'echo')).detail).toBe(
      "provider 'echo' (.dstack/providers.yaml:5:5) of workflow 'echo' wrote no jobs to the file DSTACK_PROVIDER_OUTPUT names",
    );
    await echo({ raw: '{jobs' });
    expect((await planError(root, 'echo')).detail).toMatch(/of workflow 'echo' wrote output that is not JSON: /);
  });

  it('kills a program that runs past DSTACK_PROVIDER_TIMEOUT', async () => {
    await echo({ sleep: '30' });
    const started = Date.now();
    const e = await planError(root, 'echo', { settings: { providerTimeoutSeconds: 1 } });
    expect(e.detail).toBe(
      "provider 'echo' (.dstack/providers.yaml:5:5) of workflow 'echo' did not finish within 1 s (DSTACK_PROVIDER_TIMEOUT)",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a provider that is neither built in nor defined anywhere', async () => {
    await writeFiles(root, { '.dstack/workflows.yaml': 'workflows:\n  - name: w\n    provider: nope\n' });
    expect((await planError(root, 'w')).message).toBe(
      ".dstack/workflows.yaml:3:15: workflow 'w' uses provider 'nope', which is neither a built-in provider " +
        '(bash, docker, python, curl) nor defined in .dstack/providers.yaml or .dstack/providers/nope.mjs',
    );
  });

  it('suggests the provider a typo was meant to be: a built-in one, or one of providers.yaml', async () => {
    await writeFiles(root, {
      '.dstack/workflows.yaml': 'workflows:\n  - name: w\n    provider: pyhton\n  - name: s\n    provider: shard\n',
    });
    expect((await planError(root, 'w')).message).toBe(
      ".dstack/workflows.yaml:3:15: workflow 'w' uses provider 'pyhton', which is neither a built-in provider " +
        '(bash, docker, python, curl) nor defined in .dstack/providers.yaml or .dstack/providers/pyhton.mjs; ' +
        "did you mean 'python'?",
    );
    expect((await planError(root, 's')).detail).toBe(
      "workflow 's' uses provider 'shard', which is neither a built-in provider (bash, docker, python, curl) " +
        "nor defined in .dstack/providers.yaml or .dstack/providers/shard.mjs; did you mean 'shards'?",
    );
  });

  it('refuses a provider defined both in providers.yaml and as a module', async () => {
    await writeFiles(root, {
      '.dstack/workflows.yaml': 'workflows:\n  - name: w\n    provider: echo\n',
      '.dstack/providers/echo.mjs': 'export default { name: "echo", createJobs: () => [] };\n',
    });
    expect((await planError(root, 'w')).detail).toBe(
      "workflow 'w' uses provider 'echo', which is defined twice, at .dstack/providers.yaml:5:5 and in " +
        '.dstack/providers/echo.mjs: keep one',
    );
    await rm(join(root, '.dstack/providers/echo.mjs'));
  });
});
