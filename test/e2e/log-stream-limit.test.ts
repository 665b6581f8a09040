/**
 * `dstack logs -f` refused one log stream too many (DSTACK_MAX_LOG_STREAMS on `dstack server`)
 * says why and what to do, and exits 1; once the other stream is closed it follows again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteProject, startForegroundServer, type ForegroundServer } from './remote.js';

describe('dstack logs -f past the per-user limit on log streams', () => {
  let server: ForegroundServer;
  let project: RemoteProject;
  beforeAll(async () => {
    server = await startForegroundServer(['--local-runner'], { DSTACK_MAX_LOG_STREAMS: '1' });
    project = await RemoteProject.create(server);
    await project.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: wait\n    commands:\n      - sleep 60\n' });
  }, 120_000);
  afterAll(async () => {
    await project?.dispose();
    await server?.stop();
  });

  it('is refused saying how many streams are open and what to close, then follows once one is', async () => {
    const submitted = await project.dstack(['run', 'wait', '-d']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const run = submitted.stdout.trim();
    const held = new AbortController();
    const open = await fetch(`${server.url}/api/logs/stream?target=${run}`, {
      headers: { authorization: `Bearer ${server.token}` },
      signal: held.signal,
    });
    expect(open.status).toBe(200);
    const refused = await project.dstack(['logs', '-f', run]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "error: too many log streams open: user 'admin' has 1 open, the most this server allows one user " +
        "(DSTACK_MAX_LOG_STREAMS=1); stop some (other 'dstack logs -f' or 'dstack run' in the foreground, " +
        "dashboard tabs showing a log) and try again, or ask the server's admin to raise the limit\n",
    );
    held.abort();
    expect((await project.dstack(['stop', '--abort', run])).code).toBe(0);
    const followed = await project.dstack(['logs', '-f', run]);
    expect(followed.stderr).not.toContain('too many log streams');
    expect(followed.stderr).toContain('ABORTED');
  }, 120_000);
});
