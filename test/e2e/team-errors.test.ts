/** The team commands' user errors, each with the message a user sees. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { BIN, Sandbox, waitUntil, type Result } from './harness.js';
import { TeamRunner, TeamServer } from './team-harness.js';

/** `dstack ARGS` in `sb` with `input` on its stdin. */
function withStdin(sb: Sandbox, args: string[], input: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(BIN, args, { cwd: sb.root, env: sb.env() }, (e, stdout, stderr) =>
      resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

describe('team command errors', () => {
  let server: TeamServer;
  let sb: Sandbox;
  const admin = () => ({ env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } });

  beforeAll(async () => {
    server = await TeamServer.start();
    sb = await Sandbox.create();
  });
  afterAll(() => server.kill('SIGTERM'));

  it('dstack config needs a server and a token, and checks them before saving', async () => {
    const missing = await sb.dstack(['config', '--server', server.url]);
    expect(missing.stderr).toBe(
      'error: dstack config needs --server URL and a token: --token - (read from stdin), DSTACK_TOKEN, or --token TOKEN\n',
    );
    expect(missing.code).toBe(2);
    const wrong = await sb.dstack(['config', '--server', server.url, '--token', 'dst_nope']);
    expect(wrong.stderr).toBe(
      `error: the server at ${server.url} refused the --token; check it, or ask its admin for a new one\n`,
    );
    expect(wrong.code).toBe(1);
    const noScheme = await sb.dstack(['config', '--server', 'localhost:3111', '--token', 'dst_nope']);
    expect(noScheme.stderr).toBe("error: invalid --server 'localhost:3111': give an http:// or https:// URL\n");
    expect(noScheme.code).toBe(2);
    const list = await sb.dstack(['config', 'list']);
    expect(list.stdout).toContain('No profiles: dstack uses the local server.');
    expect((await sb.dstack(['config'])).stdout).toBe(list.stdout);
  });

  it('dstack config takes the token from stdin (--token -) or DSTACK_TOKEN, off the command line', async () => {
    const home = await Sandbox.create(); // its own config.yml
    try {
      const piped = await withStdin(home, ['config', '--server', server.url, '--token', '-'], `${server.token}\n`);
      expect([piped.code, piped.stdout]).toEqual([
        0,
        `saved profile 'default' (${server.url}) in ${join(home.home, 'config.yml')}; it is now the current one\n`,
      ]);
      expect((await home.dstack(['users'])).stdout).toMatch(/^admin\s+yes/m);
      const empty = await withStdin(home, ['config', '--server', server.url, '--token', '-'], '\n');
      expect([empty.code, empty.stderr]).toEqual([2, 'error: --token is empty (nothing came on stdin)\n']);
      const wrongPipe = await withStdin(home, ['config', '--server', server.url, '--token', '-'], 'dst_nope\n');
      expect(wrongPipe.stderr).toBe(
        `error: the server at ${server.url} refused the --token; check it, or ask its admin for a new one\n`,
      );

      const env = { DSTACK_TOKEN: server.token };
      const fromEnv = await home.dstack(['config', '--server', server.url, '--profile', 'env'], { env });
      expect([fromEnv.code, fromEnv.stderr]).toEqual([0, '']);
      expect((await home.dstack(['config', 'list'])).stdout).toMatch(/^env \*\s+http:/m);
      expect((await home.dstack(['users'])).stdout).toMatch(/^admin\s+yes/m);
      const wrongEnv = await home.dstack(['config', '--server', server.url], { env: { DSTACK_TOKEN: 'dst_nope' } });
      expect([wrongEnv.code, wrongEnv.stderr]).toEqual([
        1,
        `error: the server at ${server.url} refused DSTACK_TOKEN; check it, or ask its admin for a new one\n`,
      ]);
      // DSTACK_TOKEN alone saves nothing: `dstack config` still lists the profiles.
      expect((await home.dstack(['config'], { env })).stdout).toMatch(/^env \*\s+http:/m);
    } finally {
      await home.dispose();
    }
  });

  it('refuses DSTACK_SERVER without DSTACK_TOKEN rather than use another server, and starts none', async () => {
    const r = await sb.dstack(['status'], { env: { DSTACK_SERVER: server.url } });
    expect(r.stderr).toBe(
      `error: DSTACK_SERVER is set (${server.url}) but DSTACK_TOKEN is not: set both, or unset DSTACK_SERVER\n`,
    );
    expect(r.code).toBe(2);
    await expect(access(join(sb.home, 'server', 'server.json'))).rejects.toThrow('ENOENT');
  });

  it('refuses DSTACK_TOKEN without DSTACK_SERVER rather than use it on another server, and starts none', async () => {
    const r = await sb.dstack(['status'], { env: { DSTACK_TOKEN: server.token } });
    expect(r.stderr).toBe(
      'error: DSTACK_TOKEN is set but DSTACK_SERVER is not: set both, save them as a profile ' +
        '(dstack config --server URL, which reads DSTACK_TOKEN), or unset DSTACK_TOKEN\n',
    );
    expect(r.code).toBe(2);
    await expect(access(join(sb.home, 'server', 'server.json'))).rejects.toThrow('ENOENT');
  });

  it("says a URL that is not a dstack server's is wrong, not that dstack has a bug", async () => {
    const fix =
      "check the server's URL (DSTACK_SERVER, or the profile's: dstack config list); it is the server's root, with no path\n";
    // A path after the server's address: its dashboard's page answers, not its API.
    const withPath = `${server.url}/dstack`;
    const page = await sb.dstack(['status'], { env: { DSTACK_SERVER: withPath, DSTACK_TOKEN: server.token } });
    expect(page.stderr).toMatch(
      new RegExp(
        `^error: the server at ${withPath} is not a dstack server's address \\(GET /api/runs was answered with ` +
          "something other than dstack's JSON \\(Unexpected token '<'",
      ),
    );
    expect(page.stderr.endsWith(fix)).toBe(true);
    expect(page.code).toBe(1);
    // Another service: its own 404.
    const other = createServer((_req, res) => res.writeHead(404).end('Not Found'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const r = await sb.dstack(['status'], { env: { DSTACK_SERVER: url, DSTACK_TOKEN: server.token } });
      expect(r.stderr).toBe(
        `error: the server at ${url} is not a dstack server's address (GET /api/runs was answered with HTTP 404): ${fix}`,
      );
      expect(r.code).toBe(1);
    } finally {
      other.close();
    }
  });

  it('saves a profile and uses it; an unknown DSTACK_PROFILE is an error naming the profiles', async () => {
    expect(
      (await sb.dstack(['config', '--server', server.url, '--token', server.token, '--profile', 'team'])).code,
    ).toBe(0);
    expect((await sb.dstack(['config', 'list'])).stdout).toMatch(/team \*\s+http:\/\/127\.0\.0\.1:\d+/);
    expect((await sb.dstack(['users'])).stdout).toMatch(/^admin\s+yes/m);
    const r = await sb.dstack(['status'], { env: { DSTACK_PROFILE: 'staging' } });
    expect(r.stderr).toContain(`error: ${join(sb.home, 'config.yml')}: no profile 'staging' (profiles: team)`);
  });

  it('switches to a saved profile with --profile alone, and back to the local server with --local', async () => {
    const local = await sb.dstack(['config', '--local']);
    expect(local.stdout).toBe(
      "dstack now uses the local server (profile 'team' is kept; switch back with: dstack config --profile team)\n",
    );
    const listed = (await sb.dstack(['config', 'list'])).stdout;
    expect(listed).toMatch(/^team\s+http:/m);
    expect(listed).toMatch(
      /\nnone is current: dstack uses the local server \(switch with: dstack config --profile NAME\)\n$/,
    );
    const back = await sb.dstack(['config', '--profile', 'team']);
    expect(back.stdout).toBe(`profile 'team' (${server.url}) is now the current one\n`);
    const current = (await sb.dstack(['config', 'list'])).stdout;
    expect(current).toMatch(/^team \*\s+http:/m);
    expect(current).not.toContain('none is current');
    const unknown = await sb.dstack(['config', '--profile', 'staging']);
    expect(unknown.stderr).toBe(
      "error: no profile 'staging' (the saved ones: team); save it with: dstack config --server URL --token TOKEN --profile staging\n",
    );
    expect(unknown.code).toBe(2);
    const both = await sb.dstack(['config', '--local', '--profile', 'team']);
    expect(both.stderr).toBe('error: --local takes no --server, --token or --profile\n');
    expect(both.code).toBe(2);
    // Without profiles there is none to keep nor to switch back to: said so, and no config.yml is written.
    const fresh = await Sandbox.create();
    try {
      expect(await fresh.dstack(['config', '--local'])).toEqual({
        code: 0,
        stdout:
          'dstack uses the local server (no profile is saved; add one with: dstack config --server URL --token TOKEN)\n',
        stderr: '',
      });
      expect(existsSync(join(fresh.home, 'config.yml'))).toBe(false);
    } finally {
      await fresh.dispose();
    }
  });

  it('names the refused token by where it came from: a profile, DSTACK_TOKEN, a runner token', async () => {
    const home = await Sandbox.create(); // its own config.yml: the others' profiles stay as they are
    try {
      const { token } = await server.client().addUser('revoked');
      expect((await home.dstack(['config', '--server', server.url, '--token', token])).code).toBe(0);
      expect((await home.dstack(['status'])).code).toBe(0);
      await server.client().deleteUser('revoked');
      const refused = await home.dstack(['status']);
      expect(refused.stderr).toBe(
        `error: the server at ${server.url} refused the token of profile 'default' (${join(home.home, 'config.yml')}); ` +
          `ask its admin for a new one and run: dstack config --server ${server.url} --token TOKEN\n`,
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).not.toContain(token);
    } finally {
      await home.dispose();
    }
    const env = await sb.dstack(['status'], { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: 'dst_nope' } });
    expect(env.stderr).toBe(
      `error: the server at ${server.url} refused DSTACK_TOKEN; ask its admin for a new one and set DSTACK_TOKEN to it\n`,
    );
    expect(env.code).toBe(1);
    const badUrl = await sb.dstack(['status'], { env: { DSTACK_SERVER: 'localhost:3111', DSTACK_TOKEN: 'dst_nope' } });
    expect(badUrl.stderr).toBe("error: invalid DSTACK_SERVER 'localhost:3111': give an http:// or https:// URL\n");
    expect(badUrl.code).toBe(2);
    const fix = "give this runner's token, which an admin prints with: dstack runners token NAME (or runners add NAME)";
    const fromEnv = await sb.dstack(['runner', 'start', '--server', server.url], { env: { DSTACK_TOKEN: 'dst_nope' } });
    expect(fromEnv.stderr).toBe(`error: the server at ${server.url} refused DSTACK_TOKEN; ${fix}\n`);
    expect(fromEnv.code).toBe(1);
    const fromFlag = await sb.dstack(['runner', 'start', '--server', server.url, '--token', 'dst_nope']);
    expect(fromFlag.stderr).toBe(`error: the server at ${server.url} refused the --token; ${fix}\n`);
    const runnerUrl = await sb.dstack(['runner', 'start'], {
      env: { DSTACK_SERVER: 'localhost:3111', DSTACK_TOKEN: 'dst_nope' },
    });
    expect(runnerUrl.stderr).toBe("error: invalid DSTACK_SERVER 'localhost:3111': give an http:// or https:// URL\n");
    expect(runnerUrl.code).toBe(2);
  });

  it('refuses a duplicate user, an unknown user, and deleting the last admin', async () => {
    expect((await sb.dstack(['users', 'add', 'bob'], admin())).stdout).toMatch(
      /added user bob; their token \(shown once\): dst_/,
    );
    expect((await sb.dstack(['users', 'add', 'bob'], admin())).stderr).toContain("error: user 'bob' already exists");
    expect((await sb.dstack(['users', 'delete', 'carol'], admin())).stderr).toContain("error: no user 'carol'");
    const lastAdmin = "error: 'admin' is the last admin; make another one first, with: dstack users promote NAME\n";
    expect(await sb.dstack(['users', 'delete', 'admin'], admin())).toEqual({ code: 1, stdout: '', stderr: lastAdmin });
    expect((await sb.dstack(['users', 'add', 'Bad Name'], admin())).stderr).toContain('lower-case letters, digits');
  });

  it('users add --admin makes a second admin, listed as one, who can manage users', async () => {
    const added = await sb.dstack(['users', 'add', 'ops', '--admin'], admin());
    expect([added.code, added.stderr]).toEqual([0, '']);
    expect(added.stdout).toMatch(/^added admin ops; their token \(shown once\): dst_\S+\n$/);
    const ops = { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: /: (dst_\S+)/.exec(added.stdout)![1]! } };
    const listed = (await sb.dstack(['users', 'list'], ops)).stdout;
    expect(listed).toMatch(/^USER +ADMIN +TOKENS +CREATED$/m);
    expect(listed).toMatch(/^ops +yes +1 +\S/m);
    expect(listed).toMatch(/^admin +yes +1 +\S/m);
    expect((await sb.dstack(['users', 'add', 'plain'], ops)).stdout).toMatch(/^added user plain; /);
    expect((await sb.dstack(['users', 'list'], ops)).stdout).toMatch(/^plain +1 +\S/m); // no "yes"
    const plain = await sb.dstack(['users', 'add', 'not-admin', '--admin'], {
      env: {
        DSTACK_SERVER: server.url,
        DSTACK_TOKEN: /: (dst_\S+)/.exec((await sb.dstack(['users', 'token', 'plain'], ops)).stdout)![1]!,
      },
    });
    expect([plain.code, plain.stderr]).toEqual([1, 'error: only an admin can do this\n']);
    expect((await sb.dstack(['users', 'delete', 'plain'], ops)).code).toBe(0);
    expect((await sb.dstack(['users', 'delete', 'ops'], admin())).stdout).toBe('deleted user ops\n');
  });

  it('users promote and demote change a user in place; the last admin is kept, unknown users named', async () => {
    await sb.dstack(['users', 'add', 'dana'], admin());
    expect(await sb.dstack(['users', 'promote', 'dana'], admin())).toEqual({
      code: 0,
      stdout: 'dana is now an admin\n',
      stderr: '',
    });
    expect((await sb.dstack(['users', 'promote', 'dana'], admin())).stdout).toBe('dana is already an admin\n');
    expect((await sb.dstack(['users', 'list'], admin())).stdout).toMatch(/^dana +yes +1 +\S/m);
    expect((await sb.dstack(['users', 'demote', 'dana'], admin())).stdout).toBe('dana is now a user, not an admin\n');
    expect((await sb.dstack(['users', 'demote', 'dana'], admin())).stdout).toBe(
      'dana is already a user, not an admin\n',
    );
    expect(await sb.dstack(['users', 'demote', 'admin'], admin())).toEqual({
      code: 1,
      stdout: '',
      stderr: "error: 'admin' is the last admin; make another one first, with: dstack users promote NAME\n",
    });
    expect(await sb.dstack(['users', 'promote', 'nobody'], admin())).toEqual({
      code: 1,
      stdout: '',
      stderr: "error: no user 'nobody'\n",
    });
    expect((await sb.dstack(['users', 'delete', 'dana'], admin())).code).toBe(0);
  });

  it('users add --admin warns when the server is older and added a plain user; users promote says it is older', async () => {
    // An older server takes {name, admin} as {name} and answers without `admin`.
    const old = createServer((req, res) => {
      res.writeHead(req.method === 'POST' && req.url === '/api/users' ? 201 : 404, {
        'content-type': 'application/json',
      });
      const path = req.url ?? '';
      res.end(
        JSON.stringify(
          req.method === 'POST' && path === '/api/users'
            ? { name: 'ops2', token: 'dst_old' }
            : { error: { code: 'not_found', message: `no route ${req.method} ${path}` } },
        ),
      );
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
    try {
      const added = await sb.dstack(['users', 'add', 'ops2', '--admin'], {
        env: { DSTACK_SERVER: url, DSTACK_TOKEN: 'dst_any' },
      });
      expect(added).toEqual({
        code: 0,
        stdout: 'added user ops2; their token (shown once): dst_old\n',
        stderr: `warning: the server at ${url} is older than users add --admin and made ops2 a user, not an admin\n`,
      });
      // Its JSON 404 for a route it does not have.
      const promoted = await sb.dstack(['users', 'promote', 'ops2'], {
        env: { DSTACK_SERVER: url, DSTACK_TOKEN: 'dst_any' },
      });
      expect(promoted).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: the server at ${url} is older than users promote: upgrade it\n`,
      });
    } finally {
      old.close();
    }
  });

  it('refuses a runner started with a name its token is not for, and bad resources', async () => {
    const added = await sb.dstack(['runners', 'add', 'gpu-box'], admin());
    const token = /DSTACK_TOKEN=(\S+) dstack runner start --server /.exec(added.stdout)![1]!;
    // The admin's URL is 127.0.0.1: the printed command works on this machine only, and says so.
    expect(added.stdout).toBe(
      `added runner gpu-box; start it on its machine with:\n  DSTACK_TOKEN=${token} dstack runner start --server ${server.url}\n` +
        `  (${server.url} reaches this machine only: on another machine, replace it with an address of this server ` +
        'that machine can reach)\n',
    );
    // Listed before it ever starts: an admin sees which runner tokens are out.
    expect((await sb.dstack(['runners'], admin())).stdout).toMatch(
      /^gpu-box +- +- +- +- +- +- +- +NOT STARTED +0 +added /m,
    );
    const start = (extra: string[]) =>
      sb.dstack(['runner', 'start', '--server', server.url, '--token', token, ...extra]);
    expect((await start(['--name', 'other'])).stderr).toContain(
      "error: --name 'other' does not match the token, which is for runner 'gpu-box'",
    );
    // The token as the printed command gives it: in DSTACK_TOKEN, not on the command line.
    const fromEnv = await sb.dstack(['runner', 'start', '--server', server.url, '--name', 'other'], {
      env: { DSTACK_TOKEN: token },
    });
    expect(fromEnv.stderr).toContain("error: --name 'other' does not match the token, which is for runner 'gpu-box'");
    expect((await start(['--cpu', 'many'])).stderr).toContain(
      "error: invalid --cpu 'many': expected a number of cores",
    );
    expect((await start(['--memory', 'lots'])).stderr).toContain(
      "error: invalid --memory 'lots': expected a size like 16GB",
    );
    expect((await start(['--memory', '16'])).stderr).toContain(
      "error: invalid --memory '16': a bare number is megabytes (16MB); write 16GB, or 16MB to mean it",
    );
    expect((await start(['--gpus', '1.5'])).stderr).toContain(
      "error: invalid --gpus '1.5': expected a number of GPUs (2) or their indices (0,2)",
    );
    // Said at once, not once a server that is down has come up (it waited for it first).
    const down = await sb.dstack(
      ['runner', 'start', '--server', 'http://127.0.0.1:9', '--token', token, '--gpus', 'a'],
      {
        timeoutMs: 10_000,
      },
    );
    expect([down.code, down.stderr]).toEqual([
      2,
      "error: invalid --gpus 'a': expected a number of GPUs (2) or their indices (0,2)\n",
    ]);
    // An nvidia-smi (a script printing a real H100's row) that lists one GPU: two are more than there are.
    const smi = join(sb.home, 'fake-nvidia-smi');
    await mkdir(smi, { recursive: true });
    await writeFile(
      join(smi, 'nvidia-smi'),
      "#!/bin/sh\necho '0, GPU-6742871d-04bb-1b8a-ffc9-e3fd79749d08, NVIDIA H100 80GB HBM3, 81559'\n",
      { mode: 0o755 },
    );
    const tooMany = await sb.dstack(['runner', 'start', '--server', server.url, '--token', token, '--gpus', '2'], {
      env: { PATH: `${smi}:${process.env.PATH}` },
    });
    expect([tooMany.code, tooMany.stderr]).toEqual([
      2,
      "error: invalid --gpus '2': nvidia-smi lists 1 GPU here (0): offer at most 1, or name them by index (0,2)\n",
    ]);
    expect((await start(['--venv-cache-size', 'lots'])).stderr).toContain(
      "error: invalid --venv-cache-size 'lots': expected a size like 20GB, or 0 for no size limit",
    );
    const badDays = await sb.dstack(['runner', 'start', '--server', server.url], {
      env: { DSTACK_TOKEN: token, DSTACK_VENV_CACHE_DAYS: 'soon' },
    });
    expect(badDays.code).toBe(2);
    expect(badDays.stderr).toContain(
      "error: invalid DSTACK_VENV_CACHE_DAYS 'soon': expected a number of days, or 0 for no age limit",
    );
    // The local server's runner reads it too: its start fails, saying why (a home with no server yet).
    const fresh = await Sandbox.create();
    const local = await fresh.dstack(['status'], { env: { DSTACK_VENV_CACHE_SIZE: '-1' } });
    await fresh.dispose();
    expect(local.stderr).toContain(
      "the local dstack server exited as it started: error: invalid DSTACK_VENV_CACHE_SIZE '-1': expected a size like 20GB",
    );
    expect((await sb.dstack(['runner', 'start'])).stderr).toContain(
      'error: dstack runner start needs --server URL and its token in DSTACK_TOKEN (or --token RUNNER_TOKEN), from: dstack runners add NAME',
    );
    expect((await sb.dstack(['runners', 'delete', 'nope'], admin())).stderr).toContain("error: no runner 'nope'");
  });

  it('a job waiting for a runner names the one added but not started, and how to start it', async () => {
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: idle\n    commands: [echo idle]\n' });
    const name = (await sb.dstack(['run', 'idle', '-d'], admin())).stdout.trim();
    const why =
      "no runner has started (not started: gpu-box; run the 'dstack runner start' that 'dstack runners add' " +
      'printed on its machine)';
    await waitUntil(async () => {
      const [run] = JSON.parse((await sb.dstack(['status', name, '--json'], admin())).stdout) as RunView[];
      return run!.jobs[0]!.reason === why;
    });
    expect((await sb.dstack(['status', name], admin())).stdout).toContain(`SUBMITTED ${why}`);
    // Aborted, so that the runners the next tests start do not take it.
    expect((await sb.dstack(['stop', '--abort', name], admin())).code).toBe(0);
  });

  it('stops a runner whose token is deleted, failing its job, and forgets it', async () => {
    const runner = await TeamRunner.start(server, 'doomed', ['--cpu', '1']);
    await sb.write({
      '.dstack/workflows.yaml': 'workflows:\n  - name: forever\n    commands: [echo started, sleep 60]\n',
    });
    const name = (await sb.dstack(['run', 'forever', '-d'], admin())).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name], admin())).stdout.includes('started'));
    const exited = new Promise((resolve) => runner.proc.once('exit', resolve));
    expect((await sb.dstack(['runners', 'delete', 'doomed'], admin())).code).toBe(0);
    expect(await exited).toBe(1);
    expect(runner.output).toContain(
      "the server refuses the token of runner 'doomed': it was replaced (dstack runners token) or deleted " +
        '(dstack runners delete). Aborting its jobs and stopping; to start it again, an admin prints a new token ' +
        'with: dstack runners token doomed (or runners add doomed, if it was deleted)',
    );
    const [run] = JSON.parse((await sb.dstack(['status', name, '--json'], admin())).stdout) as RunView[];
    expect(run!.jobs[0]).toMatchObject({ status: 'FAILED', reason: 'runner deleted' });
    expect((await sb.dstack(['runners'], admin())).stdout).not.toContain('doomed');
  });

  it('an --output download over HTTP names a file where an artifact has a folder', async () => {
    const runner = await TeamRunner.start(server, 'maker', ['--cpu', '1']);
    try {
      await sb.write({
        '.dstack/workflows.yaml':
          'workflows:\n  - name: make\n    commands: [\'mkdir -p "out dir"\', \'echo hi > "out dir/x.txt"\']\n' +
          '    artifacts: [out dir]\n',
      });
      expect((await sb.dstack(['run', 'make'], admin())).code).toBe(0);
      const [run] = JSON.parse((await sb.dstack(['status', '--last', '1', '--json'], admin())).stdout) as RunView[];
      const dir = join(sb.root, '..', 'in-the-way');
      await mkdir(dir);
      await writeFile(join(dir, 'out dir'), 'mine');
      const r = await sb.dstack(['artifacts', run!.jobs[0]!.id, '-o', dir], admin());
      expect(r.stderr).toBe(
        `error: cannot write artifact file 'out dir/x.txt' into ${dir}: '${join(dir, 'out dir')}' is a file; ` +
          'remove it or download into another folder\n',
      );
      expect(r.code).toBe(1);
    } finally {
      await runner.kill();
    }
  });

  it('refuses a bad --runner-timeout and a broken config.yml', async () => {
    const r = await sb.dstack(['server', '--runner-timeout', 'soon']);
    expect(r.stderr).toContain("error: invalid --runner-timeout 'soon': expected seconds, like 60");
    await writeFile(join(sb.home, 'config.yml'), 'profiles:\n  x:\n    server: not-a-url\n    token: t\n');
    const broken = await sb.dstack(['config', 'list']);
    expect(broken.stderr).toBe(
      `error: ${join(sb.home, 'config.yml')}:3:13: profile 'x' has server 'not-a-url': give an http:// or https:// URL\n`,
    );
  });
});
