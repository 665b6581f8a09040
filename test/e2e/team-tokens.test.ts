/**
 * New tokens in place of leaked ones, through the CLI and a real team server: the old token
 * is refused from the next request (the server's 5 s token cache included), a user's own new
 * token goes into their saved profiles, a runner whose token is replaced stops saying what to
 * do, and the local server says why it has no token to replace.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/client/profiles.js';
import type { RunView } from '../../src/core/records.js';
import { TOKEN_CACHE_MS } from '../../src/server/store/token-cache.js';
import { Sandbox, waitUntil } from './harness.js';
import { TeamRunner, TeamServer } from './team-harness.js';

const REFUSED = 'missing or invalid token (pass it as "Authorization: Bearer TOKEN")';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('replacing tokens on a team server', () => {
  let server: TeamServer;
  let sb: Sandbox;
  const admin = () => ({ env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } });

  beforeAll(async () => {
    server = await TeamServer.start();
    sb = await Sandbox.create();
  });
  afterAll(async () => {
    await server.kill('SIGTERM');
    await sb.dispose();
  });

  /** A sandbox of its own whose default profile holds a new user's token. */
  async function userWithProfile(name: string): Promise<{ home: Sandbox; token: string }> {
    const { token } = await server.client().addUser(name);
    const home = await Sandbox.create();
    expect((await home.dstack(['config', '--server', server.url, '--token', token])).code).toBe(0);
    return { home, token };
  }

  it("an admin's `users token NAME` prints the new token once; the old one is refused at once, cached or not", async () => {
    const { home, token: old } = await userWithProfile('alice');
    try {
      const cachedAt = Date.now();
      expect((await server.client(old).health()).caller).toBe('alice'); // the server now remembers the token
      const r = await sb.dstack(['users', 'token', 'alice'], admin());
      const printed = new RegExp(
        '^issued a new token for user alice; their old one no longer works\\. Their token \\(shown once\\): (dst_\\S+)\\n' +
          `they save it with: dstack config --server ${escape(server.url)} --token TOKEN\\n$`,
      ).exec(r.stdout);
      expect(printed, r.stderr).not.toBeNull();
      await expect(server.client(old).health()).rejects.toThrow(REFUSED);
      expect(Date.now() - cachedAt).toBeLessThan(TOKEN_CACHE_MS);

      const refused = await home.dstack(['status']);
      expect(refused.stderr).toBe(
        `error: the server at ${server.url} refused the token of profile 'default' (${join(home.home, 'config.yml')}); ` +
          `ask its admin for a new one and run: dstack config --server ${server.url} --token TOKEN\n`,
      );
      expect(refused.code).toBe(1);
      expect((await home.dstack(['config', '--server', server.url, '--token', printed![1]!])).code).toBe(0);
      expect((await home.dstack(['status'])).code).toBe(0);
    } finally {
      await home.dispose();
    }
  });

  it("a user's own `users token` goes into every profile that held the old token, unprinted", async () => {
    const { home, token: old } = await userWithProfile('bob');
    try {
      // A second profile with the same token; the one in use is 'team'.
      expect((await home.dstack(['config', '--server', server.url, '--token', old, '--profile', 'team'])).code).toBe(0);
      const r = await home.dstack(['users', 'token']);
      expect(r.stdout).toBe(
        'issued a new token for user bob; the old one no longer works\n' +
          `saved it in profiles 'default', 'team' (${join(home.home, 'config.yml')})\n`,
      );
      expect(r.code).toBe(0);
      const { profiles, current } = await readConfig(home.home);
      expect(current).toBe('team');
      expect(profiles['team']!.token).toMatch(/^dst_/);
      expect(profiles['team']!.token).not.toBe(old);
      expect(profiles['default']!.token).toBe(profiles['team']!.token);
      expect(r.stdout).not.toContain(profiles['team']!.token);
      expect((await home.dstack(['status'])).code).toBe(0);
      await expect(server.client(old).health()).rejects.toThrow(REFUSED);
      // Naming oneself is the same.
      const again = await home.dstack(['users', 'token', 'bob']);
      expect(again.stdout).toContain("saved it in profiles 'default', 'team'");
      expect((await home.dstack(['status'])).code).toBe(0);
    } finally {
      await home.dispose();
    }
  });

  it("with DSTACK_TOKEN, a user's new token is printed once, and the variable named as still holding the old one", async () => {
    const { token: old } = await server.client().addUser('carol');
    const r = await sb.dstack(['users', 'token'], { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: old } });
    const printed =
      /^issued a new token for user carol; the old one no longer works\nyour token \(shown once\): (dst_\S+)\nDSTACK_TOKEN still holds the old one: set it to this one\n$/.exec(
        r.stdout,
      );
    expect(printed, r.stderr).not.toBeNull();
    await expect(server.client(old).health()).rejects.toThrow(REFUSED);
    expect((await server.client(printed![1]!).health()).caller).toBe('carol');
  });

  it("refuses a user another's token and any runner's, and an admin unknown names, each saying so", async () => {
    const { token: dave } = await server.client().addUser('dave');
    const asDave = { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: dave } };
    const other = await sb.dstack(['users', 'token', 'admin'], asDave);
    expect(other.stderr).toBe(
      "error: only an admin can replace another user's token; replace your own with: dstack users token\n",
    );
    expect(other.code).toBe(1);
    const runner = await sb.dstack(['runners', 'token', 'gpu-1'], asDave);
    expect(runner.stderr).toBe('error: only an admin can do this\n');
    expect(runner.code).toBe(1);
    expect((await server.client().health()).caller).toBe('admin'); // the admin's token is as it was
    expect((await sb.dstack(['users', 'token', 'zed'], admin())).stderr).toBe("error: no user 'zed'\n");
    expect((await sb.dstack(['runners', 'token', 'zed'], admin())).stderr).toBe("error: no runner 'zed'\n");
  });

  it('stops a runner whose token is replaced, saying what to do, fails its job; started with the new token it works', async () => {
    const runner = await TeamRunner.start(server, 'rotated', ['--cpu', '1']);
    let again: TeamRunner | undefined;
    try {
      await sb.write({
        '.dstack/workflows.yaml':
          'workflows:\n  - name: forever\n    commands: [echo started, sleep 60]\n' +
          '  - name: hello\n    commands: [echo hello]\n',
      });
      const name = (await sb.dstack(['run', 'forever', '-d'], admin())).stdout.trim();
      await waitUntil(async () => (await sb.dstack(['logs', name], admin())).stdout.includes('started'));
      const exited = new Promise((resolve) => runner.proc.once('exit', resolve));
      const r = await sb.dstack(['runners', 'token', 'rotated'], admin());
      const printed = new RegExp(
        '^issued a new token for runner rotated; the old one no longer works, and a runner process using it stops ' +
          '\\(its job failed: runner token replaced\\)\\. Start it again on its machine with:\\n' +
          `  DSTACK_TOKEN=(dst_\\S+) dstack runner start --server ${escape(server.url)}\\n` +
          `  \\(${escape(server.url)} reaches this machine only: on another machine, replace it with an address of ` +
          'this server that machine can reach\\)\\n$',
      ).exec(r.stdout);
      expect(printed, r.stderr).not.toBeNull();
      expect(await exited).toBe(1);
      expect(runner.output).toContain(
        "the server refuses the token of runner 'rotated': it was replaced (dstack runners token) or deleted " +
          '(dstack runners delete). Aborting its jobs and stopping; to start it again, an admin prints a new token ' +
          'with: dstack runners token rotated (or runners add rotated, if it was deleted)',
      );
      expect(runner.output).not.toContain(printed![1]!);
      const [run] = JSON.parse((await sb.dstack(['status', name, '--json'], admin())).stdout) as RunView[];
      expect(run!.jobs[0]).toMatchObject({ status: 'FAILED', reason: 'runner token replaced' });
      expect((await sb.dstack(['runners'], admin())).stdout).toMatch(/^rotated +\S+ .* OFFLINE /m);

      // On another machine (work dir) with the new token: in at once, not after the runner timeout.
      again = await TeamRunner.launch('rotated', 'dstack-runner-rotated-again-', server.url, printed![1]!, [
        '--cpu',
        '1',
      ]);
      const hello = await sb.dstack(['run', 'hello'], admin());
      expect(hello.stdout, hello.stderr).toContain('hello');
      expect(hello.code).toBe(0);
    } finally {
      await runner.kill();
      await again?.kill();
    }
  });
});

describe('replacing tokens on the local server', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(() => sb.dispose());

  it("says the local server's token is this account's own, and its runner's the server's", async () => {
    for (const args of [
      ['users', 'token'],
      ['users', 'token', 'admin'],
    ]) {
      const r = await sb.dstack(args);
      expect(r.stderr).toBe(
        `error: the local server's token is this account's own: the CLI reads it from ${join(sb.home, 'server', 'token')} ` +
          "(mode 0600) and no other machine sees it, so there is none to replace. dstack users token replaces a team server's " +
          'tokens (use one with: dstack config --server URL --token TOKEN)\n',
      );
      expect(r.code).toBe(2);
    }
    const runner = await sb.dstack(['runners', 'token', 'local']);
    expect(runner.stderr).toBe(
      "error: runner 'local' is this server's own: the server gives it a new token at every start, and that token never leaves it\n",
    );
    expect(runner.code).toBe(1);
    expect((await sb.dstack(['status'])).code).toBe(0); // nothing was replaced
  });
});

describe('a new token that cannot be saved', () => {
  it('is printed, with how to save it, rather than lost with the old one refused', async () => {
    const server = await TeamServer.start();
    const home = await Sandbox.create();
    const config = join(home.home, 'config.yml');
    try {
      const { token: old } = await server.client().addUser('erin');
      expect((await home.dstack(['config', '--server', server.url, '--token', old])).code).toBe(0);
      // Immutable: not even root (the tests' user) can write it. Needs a filesystem with attributes (ext4, xfs).
      await promisify(execFile)('chattr', ['+i', config]);
      try {
        const r = await home.dstack(['users', 'token']);
        const printed = /^your new token \(shown once\): (dst_\S+)\n$/.exec(r.stdout);
        expect(printed, r.stderr).not.toBeNull();
        expect(r.stderr).toBe(
          `error: could not save the new token: cannot replace ${config} (operation not permitted) while saving ` +
            'config.yml (left unchanged); ' +
            `save it with: dstack config --server ${server.url} --token TOKEN\n`,
        );
        expect(r.code).toBe(1);
        expect((await server.client(printed![1]!).health()).caller).toBe('erin');
      } finally {
        await promisify(execFile)('chattr', ['-i', config]);
      }
    } finally {
      await home.dispose();
      await server.kill('SIGTERM');
    }
  });
});
