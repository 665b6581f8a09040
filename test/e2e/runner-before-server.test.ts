/**
 * `dstack runner start` before its server is up (a service manager starting both): it waits,
 * saying so in its log at each try, and registers once the server listens; a URL whose name
 * does not resolve, or a refused token, still fails at once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox, waitUntil } from './harness.js';
import { TeamRunner, TeamServer } from './team-harness.js';

describe('a runner started before its server', () => {
  let server: TeamServer | undefined;
  let runner: TeamRunner | undefined;
  afterAll(async () => {
    await runner?.kill('SIGTERM');
    await server?.kill('SIGTERM');
  });

  it('waits for the server, saying so each time, and registers once it is up', async () => {
    server = await TeamServer.start();
    const { token } = await server.client().addRunner('early');
    await server.kill('SIGTERM'); // its port and data stay: the server starts again on them below
    runner = await TeamRunner.launch('early', 'dstack-runner-early-', server.url, token, ['--cpu', '1']);
    const waiting = (delay: number) =>
      `WARN [runner] the dstack server at ${server!.url} is not up yet ` +
      `(connect ECONNREFUSED 127.0.0.1:${server!.port}); trying again in ${delay} s\n`;
    await waitUntil(
      async () => runner!.output.includes(waiting(2)),
      20_000,
      async () => runner!.output,
    );
    expect(runner.output).toContain(waiting(1));
    expect(runner.proc.exitCode).toBeNull();

    await server.boot();
    await waitUntil(
      async () => (await server!.client().runners()).some((r) => r.name === 'early' && r.status === 'ACTIVE'),
      30_000,
      async () => runner!.output,
    );
    expect(runner.proc.exitCode).toBeNull();
  });

  it('fails at once for a name that does not resolve, a refused token, or a URL where no dstack server answers', async () => {
    const sb = await Sandbox.create();
    try {
      const unresolved = await sb.dstack(['runner', 'start', '--server', 'http://no-such-host.invalid:3000'], {
        env: { DSTACK_TOKEN: 'dst_nope' },
      });
      expect([unresolved.code, unresolved.stderr]).toEqual([
        1,
        'error: cannot reach the dstack server at http://no-such-host.invalid:3000: getaddrinfo ENOTFOUND no-such-host.invalid\n',
      ]);
      const refused = await sb.dstack(['runner', 'start', '--server', server!.url], {
        env: { DSTACK_TOKEN: 'dst_nope' },
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error: the server at \S+ refused DSTACK_TOKEN; /);
      // A path after the address (the dashboard's page answers): the flag it came from is named.
      for (const [how, args, env] of [
        ['--server', ['--server', `${server!.url}/runs`], {}],
        ['DSTACK_SERVER', [], { DSTACK_SERVER: `${server!.url}/runs` }],
      ] as const) {
        const page = await sb.dstack(['runner', 'start', ...args], { env: { DSTACK_TOKEN: 'dst_nope', ...env } });
        expect(page.code).toBe(1);
        expect(page.stderr).toMatch(/^error: the server at \S+\/runs is not a dstack server's address /);
        expect(page.stderr).toMatch(
          new RegExp(`: check the server's URL \\(${how}\\); it is the server's root, with no path\n$`),
        );
      }
    } finally {
      await sb.dispose();
    }
  });
});
