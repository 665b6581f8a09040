/**
 * A runner's cached virtualenvs stay within its limits (the soak test's repro: each change to a
 * requirements file's comment left one more 26 MB folder, forever): over `--venv-cache-size`,
 * the build of a new one removes the least recently used; a restarted runner removes what
 * earlier versions left (`venvs/<20 hex>`) and those unused past the age limit, not what a
 * link planted in them points at.
 */
import { mkdir, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, waitUntil } from './harness.js';
import { TeamRunner, TeamServer } from './team-harness.js';

describe('cached virtualenvs on a runner', () => {
  let server: TeamServer;
  let runner: TeamRunner;
  let sb: Sandbox;
  const venvs = () => join(runner.workDir, 'venvs');
  const run = () =>
    sb.dstack(['run', 'hello'], { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token }, timeoutMs: 120_000 });

  beforeAll(async () => {
    server = await TeamServer.start();
    // A bare virtualenv takes about 26 MB: room for one, not two.
    runner = await TeamRunner.start(server, 'box', ['--cpu', '1', '--venv-cache-size', '40MB']);
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: hello',
        '    provider: python',
        '    python_script: hello.py',
        '    requirements: requirements.txt',
        '',
      ].join('\n'),
      'hello.py': 'print("hello from the venv")\n',
    });
    const active = async () => (await server.client().runners()).some((r) => r.status === 'ACTIVE');
    await waitUntil(active, 60_000);
  }, 120_000);
  afterAll(async () => {
    await runner?.kill();
    await server?.kill('SIGTERM');
    await sb?.dispose();
  });

  it('a new build past the size limit removes the least recently used, keeping the one it built', async () => {
    for (const version of [1, 2, 3]) {
      await sb.write({ 'requirements.txt': `# version ${version}\n` });
      const r = await run();
      expect(r.code, r.stderr + runner.output).toBe(0);
      expect(r.stdout).toContain('hello from the venv');
      expect(r.stderr).toMatch(/creating a virtualenv for requirements\.txt/);
    }
    // The pass after a build runs beside the job's script: it may end just after the run.
    await waitUntil(
      async () => (await readdir(venvs())).length === 1,
      20_000,
      async () => String(await readdir(venvs())),
    );
    await sb.write({ 'hello.py': 'print("hello again")\n' }); // a job of its own, not the cached result
    const again = await run(); // the one kept is the last built
    expect(again.stderr).toMatch(/reusing the virtualenv for requirements\.txt/);
  }, 300_000);

  it("a restarted runner removes earlier versions' folders and those unused for a week, not what their links point at", async () => {
    await runner.kill('SIGTERM');
    const [kept] = await readdir(venvs());
    const outside = join(sb.root, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'precious'), 'keep me');
    const old = join(venvs(), '0123456789abcdef0123');
    await mkdir(join(old, 'bin'), { recursive: true });
    await writeFile(join(old, '.dstack-ready'), '# version 0\n');
    await symlink(outside, join(old, 'bin', 'planted'));
    const stale = join(venvs(), 'a'.repeat(32));
    await mkdir(join(stale, 'env'), { recursive: true });
    await writeFile(join(stale, 'ready'), '# old\n');
    const monthAgo = new Date(Date.now() - 30 * 24 * 3600 * 1000);
    await utimes(join(stale, 'ready'), monthAgo, monthAgo);
    runner.boot();
    await waitUntil(
      async () => String(await readdir(venvs())) === kept,
      30_000,
      async () => `${String(await readdir(venvs()))}; runner: ${runner.output}`,
    );
    // Once its trash is emptied: `rm -r` removed the link, not the folder it names.
    const trash = join(runner.workDir, 'trash');
    await waitUntil(async () => (await readdir(trash).catch(() => [])).length === 0, 20_000);
    expect(await readdir(outside)).toEqual(['precious']);
  }, 120_000);
});
