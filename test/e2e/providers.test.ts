/**
 * The python and curl providers through the real CLI: a script with its requirements in a
 * virtualenv (installed from a local wheel folder, reused on the next run, made again for other
 * pip settings or another listing of the folder, built per job for a local constraints file), a
 * missing Python or requirements file, and downloads from a local HTTP server, redirects, retries and a 404.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { makeWheel } from '../providers/wheel.js';
import { Sandbox } from './harness.js';

const PYTHON_WORKFLOWS = `workflows:
  - name: greet
    provider: python
    python_script: main.py --who $who
    requirements: requirements.txt
    artifacts: [out]
  - name: old-python
    provider: python
    python: 3.4
    python_script: main.py
  - name: no-requirements
    provider: python
    python_script: main.py
    requirements: missing.txt
  - name: bad-requirements
    provider: python
    python_script: main.py
    requirements: bad-requirements.txt
  - name: ignored-requirements
    provider: python
    python_script: main.py
    requirements: ignored.txt
  - name: index-a
    provider: python
    python_script: hello.py
    requirements: no-packages.txt
    environment:
      PIP_EXTRA_INDEX_URL: https://a.example.invalid/simple
  - name: index-b
    provider: python
    python_script: hello.py
    requirements: no-packages.txt
    environment:
      PIP_EXTRA_INDEX_URL: https://b.example.invalid/simple
  - name: local-links
    provider: python
    python_script: hello.py
    requirements: no-packages.txt
    environment:
      PIP_FIND_LINKS: wheels
  - name: local-constraints
    provider: python
    python_script: hello.py
    requirements: no-packages.txt
    environment:
      PIP_CONSTRAINT: constraints.txt
  - name: greet-listed
    provider: python
    python_script: main.py --who list
    requirements: [tinypkg]
  - name: ignored-script
    provider: python
    python_script: ignored.py --epochs 3
`;

const MAIN_PY = `import argparse, os, sys
import tinypkg
p = argparse.ArgumentParser()
p.add_argument("--who")
a = p.parse_args()
print(tinypkg.greet(a.who))
print("in a virtualenv:", sys.prefix != sys.base_prefix)
os.makedirs("out", exist_ok=True)
open("out/greeting.txt", "w").write(tinypkg.greet(a.who))
`;

describe('the python provider', () => {
  let sb: Sandbox;
  let wheels: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    wheels = await mkdtemp(join(tmpdir(), 'dstack-wheels-'));
    await makeWheel(wheels);
    // pip's own settings, in the environment the runner (the embedded server) inherits: a folder
    // of the runner's machine, keyed by its listing.
    Object.assign(process.env, { PIP_FIND_LINKS: wheels, PIP_NO_INDEX: '1' });
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': PYTHON_WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  greet:\n    who: world\n',
      'main.py': MAIN_PY,
      'requirements.txt': 'tinypkg==0.1\n',
      'bad-requirements.txt': 'no-such-package-of-dstack==1.0\n',
      // Nothing for pip to fetch: the indexes named are never asked.
      'no-packages.txt': '# nothing to install\n',
      'hello.py': 'print("hello from the venv")\n',
    });
  });
  afterAll(async () => {
    await sb?.dispose();
    process.env = saved;
    await rm(wheels, { recursive: true, force: true });
  });

  it('runs the script with its arguments in a virtualenv with the requirements installed by pip', async () => {
    const r = await sb.dstack(['run', 'greet', '--who', 'dstack'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/creating a virtualenv for requirements\.txt/);
    expect(r.stdout + r.stderr).toMatch(/Successfully installed tinypkg-0\.1/);
    expect(r.stdout).toContain('hello dstack from tinypkg\nin a virtualenv: True\n');
    const [run] = await sb.json<RunView[]>(['status']);
    const files = await sb.dstack(['artifacts', run!.jobs[0]!.id]);
    expect(files.stdout).toContain('out/greeting.txt');
  });

  it('reuses the virtualenv on the next run with the same requirements', async () => {
    const r = await sb.dstack(['run', 'greet', '--who', 'again', '--no-cache'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/reusing the virtualenv for requirements\.txt/);
    expect(r.stdout + r.stderr).not.toContain('Successfully installed');
    expect(r.stdout).toContain('hello again from tinypkg');
  });

  it('installs a list of packages given as requirements, and reuses their virtualenv', async () => {
    const run = () => sb.dstack(['run', 'greet-listed', '--no-cache'], { timeoutMs: 120_000 });
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/creating a virtualenv for the packages tinypkg \(/);
    expect(r.stdout + r.stderr).toMatch(/Successfully installed tinypkg-0\.1/);
    expect(r.stdout).toContain('hello list from tinypkg\nin a virtualenv: True\n');
    expect((await run()).stderr).toMatch(/reusing the virtualenv for the packages tinypkg \(/);
  });

  it("makes another virtualenv for the same requirements with other pip settings in the workflow's environment", async () => {
    const run = (name: string) => sb.dstack(['run', name, '--no-cache'], { timeoutMs: 120_000 });
    const first = await run('index-a');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/creating a virtualenv for no-packages\.txt/);
    expect((await run('index-a')).stderr).toMatch(/reusing the virtualenv for no-packages\.txt/);
    const other = await run('index-b');
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/creating a virtualenv for no-packages\.txt/);
    expect(other.stdout).toContain('hello from the venv');
  });

  it('keys a virtualenv by the listing of a local folder of wheels: the same folder reuses it, a wheel added makes another', async () => {
    const run = () => sb.dstack(['run', 'local-links', '--no-cache'], { timeoutMs: 120_000 });
    await sb.write({ 'wheels/a-0.1-py3-none-any.whl': 'not read: nothing asks for it\n' });
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/creating a virtualenv for no-packages\.txt/);
    expect(first.stdout).toContain('hello from the venv');
    expect((await run()).stderr).toMatch(/reusing the virtualenv for no-packages\.txt/);
    await sb.write({ 'wheels/b-0.1-py3-none-any.whl': 'a new wheel\n' });
    expect((await run()).stderr).toMatch(/creating a virtualenv for no-packages\.txt/);
  });

  it('builds a virtualenv of the job alone when a pip setting names a local file', async () => {
    await sb.write({ 'constraints.txt': 'tinypkg==0.1\n' });
    const r = await sb.dstack(['run', 'local-constraints'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "pip's setting PIP_CONSTRAINT names local files ('constraints.txt'): its virtualenv is built for this job alone, not cached",
    );
    expect(r.stdout).toContain('hello from the venv');
  });

  it('fails a job whose Python version the runner lacks, saying so', async () => {
    const r = await sb.dstack(['run', 'old-python']);
    expect(r.code).toBe(1);
    const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
    expect(run!.jobs[0]!.reason).toBe(
      "this machine does not have Python 3.4: no working 'python3.4' on its PATH (use a version it has, " +
        'or run the job in the python:3.4 image: DSTACK_PYTHON_RUNTIME=docker on the runner)',
    );
  });

  it('refuses a requirements file that is not in the project before submitting anything', async () => {
    const runs = async () => (await sb.json<RunView[]>(['status', '--last', '100'])).length;
    const before = await runs();
    const r = await sb.dstack(['run', 'no-requirements']);
    expect(r.stderr).toBe(
      "error: .dstack/workflows.yaml:14:19: requirements file 'missing.txt' of workflow 'no-requirements' does " +
        'not exist in the project (a path relative to the folder that holds .dstack)\n',
    );
    expect(r.code).toBe(2);
    expect(await runs()).toBe(before);
  });

  it('fails a job whose requirements cannot be installed, saying which', async () => {
    const r = await sb.dstack(['run', 'bad-requirements'], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No matching distribution found for no-such-package-of-dstack==1\.0/);
    const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
    expect(run!.jobs[0]!.reason).toBe('installing bad-requirements.txt failed (exit code 1)');
  });

  // Last: it makes the project a git repository. A file git ignores is in the project, but not in
  // the run's code: submitted, the job failed (`requirements file 'ignored.txt' is not in the
  // workspace`, python's `can't open file`).
  it('refuses a requirements file or a script that git ignores before submitting anything', async () => {
    execFileSync('git', ['init', '-q'], { cwd: sb.root });
    await sb.write({ '.gitignore': 'ignored.*\n', 'ignored.txt': 'tinypkg==0.1\n', 'ignored.py': 'print(1)\n' });
    const runs = async () => (await sb.json<RunView[]>(['status', '--last', '100'])).length;
    const before = await runs();
    const what = (file: string) =>
      `is in the project, but git ignores it, so it is not in the run's code: have git track it (git add -f ${file}), ` +
      'or take it out of .gitignore\n';
    const requirements = await sb.dstack(['run', 'ignored-requirements']);
    expect([requirements.code, requirements.stderr]).toEqual([
      2,
      `error: .dstack/workflows.yaml:22:19: requirements file 'ignored.txt' of workflow 'ignored-requirements' ${what('ignored.txt')}`,
    ]);
    const script = await sb.dstack(['run', 'ignored-script', '--dry-run']);
    expect([script.code, script.stderr]).toEqual([
      2,
      `error: .dstack/workflows.yaml:53:20: python script 'ignored.py' of workflow 'ignored-script' ${what('ignored.py')}`,
    ]);
    expect(await runs()).toBe(before);
  });
});

describe('the curl provider', () => {
  let sb: Sandbox;
  let server: Server;
  let port: number;
  let flaky = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/data.txt') return void res.end('To be, or not to be\n');
      if (req.url === '/moved') return void res.writeHead(302, { location: '/data.txt' }).end();
      if (req.url === '/flaky' && flaky++ < 2) return void res.writeHead(503).end('busy');
      if (req.url === '/flaky') return void res.end('at last\n');
      res.writeHead(404).end('no such file');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    sb = await Sandbox.create();
    const curl = (name: string, path: string) =>
      `  - name: ${name}\n    provider: curl\n    url: http://127.0.0.1:${port}${path}\n` +
      '    output: raw/input.txt\n    artifacts: [raw]\n';
    await sb.write({
      '.dstack/workflows.yaml':
        'workflows:\n' +
        curl('download', '/moved') +
        curl('flaky', '/flaky') +
        curl('missing', '/missing.txt') +
        '  - name: use\n    depends-on: [download]\n    commands: [cat raw/input.txt]\n',
    });
  });
  afterAll(async () => {
    await sb?.dispose();
    server?.close();
  });

  it('downloads the url (after a redirect) to output, with progress in the log, for the jobs that depend on it', async () => {
    const r = await sb.dstack(['run', 'use']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/download +\| \[dstack\] redirected to http:\/\/127\.0\.0\.1:\d+\/data\.txt/);
    expect(r.stderr).toMatch(/download +\| \[dstack\] downloaded 20B to raw\/input\.txt/);
    expect(r.stdout).toMatch(/use +\| To be, or not to be/);
  });

  it('retries a server error with backoff, then succeeds', async () => {
    const r = await sb.dstack(['run', 'flaky']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /HTTP 503 Service Unavailable from http:\/\/127\.0\.0\.1:\d+\/flaky; retrying in 1 s \(try 2 of 4\)/,
    );
    const [run] = await sb.json<RunView[]>(['status']);
    const out = join(sb.root, '..', 'flaky');
    await sb.dstack(['artifacts', run!.jobs[0]!.id, '--output', out]);
    expect(await readFile(join(out, 'raw/input.txt'), 'utf8')).toBe('at last\n');
  });

  it('fails on a 404 with the status and the url as the reason', async () => {
    const r = await sb.dstack(['run', 'missing']);
    expect(r.code).toBe(1);
    const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
    expect(run!.jobs[0]!.status).toBe('FAILED');
    expect(run!.jobs[0]!.reason).toBe(`HTTP 404 Not Found from http://127.0.0.1:${port}/missing.txt`);
  });
});
