/**
 * A runner that reports a job's end: its log says the job finished, not that the server
 * aborted it. The heartbeat that was waiting as the job ended used to be answered with an
 * abort of the job (the server had it DONE, and the runner still listed it while it removed
 * the workspace), logged as a warning for every job: `job X aborted: the server had ended it: DONE`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, waitUntil } from './harness.js';
import { TeamRunner, TeamServer } from './team-harness.js';

describe("a runner's log of the jobs it ends", () => {
  let server: TeamServer;
  let runner: TeamRunner;
  let sb: Sandbox;
  const dstack = (args: string[]) =>
    sb.dstack(args, { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } });

  beforeAll(async () => {
    server = await TeamServer.start();
    runner = await TeamRunner.start(server, 'r1', ['--cpu', '1', '--gpus', '0']);
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml':
        'workflows:\n' +
        '  - name: ok\n    commands: [echo fine]\n' +
        '  - name: bad\n    commands: [exit 3]\n' +
        '  - name: saver\n    commands: [mkdir -p out, echo x > out/x]\n    artifacts: [out]\n',
    });
    await waitUntil(async () => (await server.client().runners()).some((r) => r.status === 'ACTIVE'));
  });
  afterAll(async () => {
    await runner.kill();
    await server.kill('SIGTERM');
  });

  it('says nothing of an abort for jobs that ended DONE or FAILED there', async () => {
    const ids: string[] = [];
    for (const [workflow, code] of [
      ['ok', 0],
      ['bad', 1],
      ['saver', 0],
      ['ok', 0],
    ] as const) {
      const r = await dstack(['run', workflow, '--no-cache']);
      expect(r.code, r.stderr).toBe(code);
      ids.push(/\((\w{12})\)/.exec(r.stderr)![1]!);
    }
    // The heartbeat's answer came within milliseconds of each end; the runner logs at warn and above.
    await new Promise((r) => setTimeout(r, 1000));
    expect(ids).toHaveLength(4);
    expect(runner.output).not.toContain('aborted');
    expect(runner.output).not.toContain('the server had ended it');
  });
});
