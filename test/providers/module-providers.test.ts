/** Custom providers that are JavaScript modules (.dstack/providers/, npm), and providers from another repository. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepo, planError, planProject, planUsageError, tempDir, writeFiles } from './helpers.js';

const FAN_MJS = `export default {
  name: 'fan',
  schema: (z) => z.object({ parts: z.coerce.number().int().min(1), tags: z.array(z.coerce.number()).optional() }),
  async createJobs(workflow, context) {
    if (workflow.params.parts > 9) throw new Error('too many parts');
    if (workflow.params.parts > 5) context.warn('that is a lot of parts');
    const jobs = [];
    for (let i = 0; i < workflow.params.parts; i++) {
      jobs.push({ name: 'part-' + i, commands: ['echo part ' + i + ' of ' + workflow.name + ' epochs=' + context.variables.epochs] });
    }
    jobs.push({ name: 'final', commands: ['echo final'], depends_on: jobs.map((j) => j.name) });
    return { jobs };
  },
};
`;

describe('module providers', () => {
  let base: string;
  let root: string;
  beforeAll(async () => {
    base = await tempDir();
    root = join(base, 'project');
    await writeFiles(root, {
      '.dstack/providers/fan.mjs': FAN_MJS,
      '.dstack/providers/broken.mjs': 'export const name = "broken";\nexport const createJobs = 42;\n',
      '.dstack/providers/badschema.mjs': 'export default { name: "badschema", schema: 42, createJobs: () => [] };\n',
      '.dstack/providers/other.mjs': 'export default { name: "renamed", createJobs: () => [{ commands: ["x"] }] };\n',
      'node_modules/dstack-provider-pair/package.json': JSON.stringify({
        name: 'dstack-provider-pair',
        type: 'module',
        exports: { '.': { import: './index.js' } },
      }),
      'node_modules/dstack-provider-pair/index.js':
        'export const name = "pair";\nexport function createJobs(wf) {\n' +
        '  return [{ name: "a", commands: ["echo a"] }, { name: "b", commands: ["echo b"], depends_on: ["a"] }];\n}\n',
      '.dstack/variables.yaml': 'variables:\n  global:\n    epochs: "2"\n  js-var:\n    count: none\n',
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: js',
        '    provider: fan',
        '    parts: ${{ parts }}',
        '  - name: broken',
        '    provider: broken',
        '  - name: other',
        '    provider: other',
        '  - name: npm',
        '    provider: npm:dstack-provider-pair',
        '  - name: badschema',
        '    provider: badschema',
        '  - name: missing-npm',
        '    provider: npm:dstack-provider-none',
        '  - name: typo',
        '    provider: fna',
        '  - name: js-var',
        '    provider: fan',
        '    parts: ${{ count }}',
        '  - name: js-text',
        '    provider: fan',
        '    parts: many',
        '  - name: js-list',
        '    provider: fan',
        '    parts: 2',
        '    tags: [1, x]',
        '  - name: js-none',
        '    provider: fan',
        '',
      ].join('\n'),
    });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('fans out in process, with the params its schema parsed and the run context', async () => {
    const p = await planProject(root, 'js', { overrides: { parts: '2' } });
    expect(p.jobs.map((j) => [j.ref, j.commands[0], j.dependsOn.map((d) => ('ref' in d ? d.ref : '?'))])).toEqual([
      ['js/part-0', 'echo part 0 of js epochs=2', []],
      ['js/part-1', 'echo part 1 of js epochs=2', []],
      ['js/final', 'echo final', ['js/part-0', 'js/part-1']],
    ]);
    expect(p.jobs[0]!.provider).toBe('fan');
  });

  it("passes on the module's warnings at the workflow's provider line", async () => {
    const p = await planProject(root, 'js', { overrides: { parts: '6' } });
    expect(p.warnings).toEqual([".dstack/workflows.yaml:3:15: provider 'fan': that is a lot of parts"]);
  });

  it('blames a parameter its schema rejects on the flag, the variable or the line that set it, with its value', async () => {
    const accepts = "takes a value provider 'fan' (.dstack/providers/fan.mjs) accepts";
    // zod's own words hide the value (`received NaN`): the message shows it.
    expect((await planUsageError(root, 'js', { overrides: { parts: 'two' } })).message).toBe(
      `invalid --parts 'two': parts of workflow 'js' ${accepts} (expected number, received NaN)`,
    );
    expect((await planUsageError(root, 'js', { overrides: { parts: '0' } })).message).toBe(
      `invalid --parts '0': parts of workflow 'js' ${accepts} (Too small: expected number to be >=1)`,
    );
    expect((await planError(root, 'js-var')).message).toBe(
      `.dstack/variables.yaml:5:12: invalid value 'none' of variable 'count': parts of workflow 'js-var' ` +
        `(.dstack/workflows.yaml:19:12) ${accepts} (expected number, received NaN)`,
    );
    expect((await planError(root, 'js-text')).message).toBe(
      ".dstack/workflows.yaml:22:12: invalid parts 'many' in workflow 'js-text': expected a value provider 'fan' " +
        '(.dstack/providers/fan.mjs) accepts (expected number, received NaN)',
    );
    expect((await planError(root, 'js-list')).message).toBe(
      ".dstack/workflows.yaml:26:15: invalid tags.1 'x' in workflow 'js-list': expected a value provider 'fan' " +
        '(.dstack/providers/fan.mjs) accepts (expected number, received NaN)',
    );
    // No value to blame (a parameter left out): the workflow's provider line, as before.
    expect((await planError(root, 'js-none')).message).toBe(
      ".dstack/workflows.yaml:28:15: provider 'fan' (.dstack/providers/fan.mjs) of workflow 'js-none' does not " +
        "accept the workflow's parameters: 'parts': expected number, received NaN",
    );
  });

  it('names what createJobs threw', async () => {
    expect((await planError(root, 'js', { overrides: { parts: '10' } })).detail).toBe(
      "provider 'fan' (.dstack/providers/fan.mjs) of workflow 'js' failed: too many parts",
    );
  });

  it('says which export of a module is wrong, and a name that is not its file', async () => {
    expect((await planError(root, 'broken')).detail).toBe(
      "provider 'broken' (.dstack/providers/broken.mjs) of workflow 'broken' cannot be loaded: its export " +
        "'createJobs' should be a function",
    );
    expect((await planError(root, 'other')).detail).toBe(
      "provider 'other' (.dstack/providers/other.mjs) of workflow 'other' exports the name 'renamed'; a module in " +
        '.dstack/providers/ is named after its file',
    );
  });

  it('suggests the module a provider typo was meant to be', async () => {
    expect((await planError(root, 'typo')).detail).toBe(
      "workflow 'typo' uses provider 'fna', which is neither a built-in provider (bash, docker, python, curl) " +
        "nor defined in .dstack/providers.yaml or .dstack/providers/fna.mjs; did you mean 'fan'?",
    );
  });

  it('says when a schema is no schema', async () => {
    expect((await planError(root, 'badschema')).detail).toBe(
      "provider 'badschema' (.dstack/providers/badschema.mjs) of workflow 'badschema' does not accept the " +
        "workflow's parameters: its 'schema' is not a schema (a zod schema, another Standard Schema, or (z) => schema)",
    );
  });

  it('takes a provider from an npm package installed in the project', async () => {
    const p = await planProject(root, 'npm');
    expect(p.jobs.map((j) => [j.ref, j.provider])).toEqual([
      ['npm/a', 'npm:dstack-provider-pair'],
      ['npm/b', 'npm:dstack-provider-pair'],
    ]);
    expect((await planError(root, 'missing-npm')).detail).toBe(
      "workflow 'missing-npm' uses provider 'npm:dstack-provider-none', an npm package that is not installed in " +
        'the project: run npm install dstack-provider-none',
    );
  });
});

describe('providers from another repository', () => {
  let base: string;
  let root: string;
  let remote: string;
  beforeAll(async () => {
    base = await tempDir();
    root = join(base, 'project');
    remote = join(base, 'providers-repo');
    await gitRepo(remote, {
      '.dstack/providers.yaml': 'providers:\n  - name: ddp\n    commands:\n      - python3 ddp/main.py\n',
      'ddp/main.py':
        'import json, os\n' +
        'inp = json.load(open(os.environ["DSTACK_PROVIDER_INPUT"]))\n' +
        'nodes = int(inp["workflow"]["params"].get("nodes", "2"))\n' +
        'jobs = [{"name": f"node-{i}", "commands": [f"python3 {inp[\'workflow\'][\'params\'][\'script\']} --rank {i}"]} for i in range(nodes)]\n' +
        'json.dump({"jobs": jobs}, open(os.environ["DSTACK_PROVIDER_OUTPUT"], "w"))\n',
      '.dstack/providers/hello.mjs':
        'export default { name: "hello", createJobs: () => [{ commands: ["echo v1"] }] };\n',
    });
    // A branch whose module says something else: `name@branch` picks it.
    const { execFileSync } = await import('node:child_process');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: remote, stdio: 'pipe' });
    git('checkout', '-q', '-b', 'next');
    await writeFiles(remote, {
      '.dstack/providers/hello.mjs':
        'export default { name: "hello", createJobs: () => [{ commands: ["echo v2"] }] };\n',
    });
    git('commit', '-qam', 'v2');
    git('checkout', '-q', 'main');
    await writeFiles(root, {
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: train',
        '    provider:',
        `      repo: ${remote}`,
        '      name: ddp',
        '    script: train.py',
        '    nodes: 3',
        '  - name: hello',
        `    provider: {repo: ${remote}, name: hello}`,
        '  - name: hello-next',
        `    provider: {repo: ${remote}, name: hello@next}`,
        '  - name: no-branch',
        `    provider: {repo: ${remote}, name: hello@nobranch}`,
        '  - name: absent',
        `    provider: {repo: ${remote}, name: absent}`,
        '  - name: unreachable',
        `    provider: {repo: ${join(base, 'no-such-repo')}, name: x}`,
        '',
      ].join('\n'),
    });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it("runs a program from the other repository's providers.yaml, in a clone kept under DSTACK_HOME", async () => {
    const home = join(base, 'home');
    const p = await planProject(root, 'train', { home });
    expect(p.jobs.map((j) => [j.ref, j.commands])).toEqual([
      ['train/node-0', ['python3 train.py --rank 0']],
      ['train/node-1', ['python3 train.py --rank 1']],
      ['train/node-2', ['python3 train.py --rank 2']],
    ]);
    // Cached: a second plan fetches into the same clone.
    expect((await planProject(root, 'train', { home })).jobs).toHaveLength(3);
  });

  it('takes a module of the other repository, from its default branch or the one after @', async () => {
    expect((await planProject(root, 'hello')).jobs.map((j) => j.commands)).toEqual([['echo v1']]);
    expect((await planProject(root, 'hello-next')).jobs.map((j) => j.commands)).toEqual([['echo v2']]);
  });

  it('says when the repository does not define the provider, or cannot be cloned', async () => {
    expect((await planError(root, 'absent')).detail).toBe(
      `workflow 'absent' uses provider 'absent', which ${remote} does not define (in .dstack/providers.yaml or ` +
        '.dstack/providers/absent.mjs)',
    );
    // git's own words were `--detach does not take a path argument 'origin/nobranch'`.
    expect((await planError(root, 'no-branch')).detail).toBe(
      "workflow 'no-branch' uses provider 'hello@nobranch' from another repository, which dstack cannot get: " +
        `${remote} has no branch 'nobranch' (its branches: main, next)`,
    );
    expect((await planError(root, 'unreachable')).detail).toMatch(
      new RegExp(
        `^workflow 'unreachable' uses provider 'x' from another repository, which dstack cannot get: cannot clone ` +
          `${join(base, 'no-such-repo')}: .+`,
      ),
    );
  });
});
