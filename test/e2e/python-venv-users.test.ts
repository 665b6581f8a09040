/**
 * Cached virtualenvs of python jobs are one user's: bob's job, in docker or on the runner's
 * host, writes a `.pth` file (code Python runs at every start) into its virtualenv's
 * site-packages, and alice's job with the same requirements on the same runner does not run it.
 * In docker the script cannot write there at all: the virtualenv is mounted read-only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWheel } from '../providers/wheel.js';
import { ensureDocker } from './docker-env.js';
import { Sandbox, waitUntil } from './harness.js';
import { TeamRunner, TeamServer } from './team-harness.js';

const workflow = (name: string, script: string, image: string | undefined) => [
  `  - name: ${name}`,
  '    provider: python',
  ...(image ? [`    image: ${image}`] : []),
  `    python_script: ${script}`,
  '    requirements: requirements.txt',
  '    environment:',
  '      PIP_FIND_LINKS: wheels',
  '      PIP_NO_INDEX: "1"',
];

const TAMPER_PY = `import os, tinypkg
site = os.path.dirname(os.path.dirname(tinypkg.__file__))
try:
    with open(os.path.join(site, "zz_evil.pth"), "w") as f:
        f.write("import sys; print('EVIL: code of another user ran', flush=True)\\n")
    print("tampered with", site)
except OSError as e:
    print("could not tamper:", e.strerror)
`;

describe("python jobs and other users' virtualenvs", () => {
  let server: TeamServer;
  let runner: TeamRunner;
  let sb: Sandbox;
  const tokens: Record<string, string> = {};
  const run = (user: string, name: string) =>
    sb.dstack(['run', name], {
      env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: tokens[user]! },
      timeoutMs: 180_000,
    });

  beforeAll(async () => {
    const dockerHost = await ensureDocker();
    server = await TeamServer.start();
    runner = await TeamRunner.start(server, 'box', ['--cpu', '1'], server.url, {
      DOCKER_HOST: dockerHost,
      DSTACK_DOCKER_NETWORK: 'none',
    });
    for (const user of ['alice', 'bob']) tokens[user] = (await server.client().addUser(user)).token;
    sb = await Sandbox.create();
    await makeWheel(`${sb.root}/wheels`);
    await sb.write({
      '.dstack/workflows.yaml': [
        'workflows:',
        ...workflow('docker-tamper', 'tamper.py', 'python:3.11'),
        ...workflow('docker-check', 'check.py', 'python:3.11'),
        ...workflow('host-tamper', 'tamper.py', undefined),
        ...workflow('host-check', 'check.py', undefined),
        '',
      ].join('\n'),
      'tamper.py': TAMPER_PY,
      'check.py': 'import tinypkg\nprint(tinypkg.greet("alice"))\n',
      'requirements.txt': 'tinypkg\n',
    });
    const active = async () => (await server.client().runners()).some((r) => r.status === 'ACTIVE');
    await waitUntil(active, 60_000);
  }, 15 * 60_000);
  afterAll(async () => {
    await runner?.kill();
    await server?.kill('SIGTERM');
    await sb?.dispose();
  });

  it("in docker, a job cannot change the cached virtualenv, and another user's job builds its own", async () => {
    const bob = await run('bob', 'docker-tamper');
    expect(bob.code, bob.stderr + runner.output).toBe(0);
    expect(bob.stdout).toContain('could not tamper: Read-only file system');
    const alice = await run('alice', 'docker-check');
    expect(alice.code, alice.stderr).toBe(0);
    expect(alice.stdout).toContain('hello alice from tinypkg');
    expect(alice.stdout).not.toContain('EVIL');
    expect(alice.stderr).toMatch(/creating a virtualenv for requirements\.txt/);
  });

  it("on the host, what a job changes in its virtualenv reaches no other user's job", async () => {
    const bob = await run('bob', 'host-tamper');
    expect(bob.code, bob.stderr + runner.output).toBe(0);
    expect(bob.stdout).toContain('tampered with'); // the job runs as the runner's user, as everything on the host
    const alice = await run('alice', 'host-check');
    expect(alice.code, alice.stderr).toBe(0);
    expect(alice.stdout).toContain('hello alice from tinypkg');
    expect(alice.stdout).not.toContain('EVIL');
    expect(alice.stderr).toMatch(/creating a virtualenv for requirements\.txt/);
  });
});
