/**
 * `dstack stop` and `dstack stop -a` of a job whose runner is still cloning its repo (the
 * remote registered by `dstack init`, served over HTTP by a server that holds its answers):
 * git is ended, the job ends STOPPED or ABORTED at once with its commands not run, and a
 * stopped one resumes once the remote answers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import { slowGitServer, type SlowGitServer } from '../services/slow-git-server.js';
import { Sandbox, waitUntil } from './harness.js';
import { git } from './repos-project.js';

describe('a job stopped while its runner clones the repo', () => {
  let sb: Sandbox;
  let remote: SlowGitServer;

  beforeAll(async () => {
    sb = await Sandbox.create();
    const bare = join(dirname(sb.root), 'remote.git');
    execFileSync('git', ['init', '-q', '--bare', bare]);
    await sb.write({
      '.dstack/workflows.yaml': `workflows:
  - name: cloned
    commands:
      - touch ${dirname(sb.root)}/ran-$run_name
      - echo COMMANDS RAN
`,
    });
    git(sb.root, 'init', '-q', '-b', 'main');
    git(sb.root, 'add', '-A');
    git(sb.root, 'commit', '-q', '-m', 'initial');
    git(sb.root, 'remote', 'add', 'origin', bare);
    git(sb.root, 'push', '-q', '-u', 'origin', 'main');
    remote = await slowGitServer(bare);
    git(sb.root, 'remote', 'set-url', 'origin', remote.url);
    const init = await sb.dstack(['init']);
    expect(init.code, init.stderr).toBe(0);
  });
  afterAll(async () => {
    remote?.hold(false);
    await sb?.dispose();
    await remote?.close();
  });

  const jobOf = async (run: string): Promise<JobRecord> => (await sb.runView(run)).jobs[0]!;

  /** `dstack run cloned -d`, once its runner's git is waiting on the remote. */
  async function cloning(): Promise<{ run: string; job: JobRecord }> {
    remote.hold(true);
    const submitted = await sb.dstack(['run', 'cloned', '-d']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const run = submitted.stdout.trim();
    await waitUntil(async () => remote.held() > 0, 30_000);
    const job = await jobOf(run);
    expect(job.status).toBe('DOWNLOADING');
    return { run, job };
  }

  /** The job once it has ended, within `ms` of the stop, while the remote still holds its answers. */
  const ended = (run: string, ms: number) =>
    waitUntil(
      async () => {
        const job = await jobOf(run);
        return ['STOPPED', 'ABORTED', 'FAILED', 'DONE'].includes(job.status) ? job : undefined;
      },
      ms,
      async () => JSON.stringify(await jobOf(run)),
    );

  it('stop -a ends it ABORTED at once, git gone, its commands not run', async () => {
    const { run, job } = await cloning();
    const stopped = await sb.dstack(['stop', '-a', run]);
    expect(stopped.stdout).toBe(`${job.id} cloned ABORTING\n`);
    const after = await ended(run, 5000);
    expect([after.status, after.reason]).toEqual(['ABORTED', 'aborted by user']);
    await waitUntil(async () => remote.connections() === 0, 5000);
    const logs = await sb.dstack(['logs', job.id]);
    expect([logs.stdout, logs.stderr]).toEqual([
      '',
      '[dstack] aborted before its commands started: they did not run\n',
    ]);
    expect(existsSync(join(dirname(sb.root), `ran-${run}`))).toBe(false);
  });

  it('stop ends it STOPPED at once, git gone; resume then clones and runs it', async () => {
    const { run, job } = await cloning();
    const stopped = await sb.dstack(['stop', run]);
    expect(stopped.stdout).toBe(`${job.id} cloned STOPPING\n`);
    const after = await ended(run, 5000);
    expect([after.status, after.reason]).toEqual(['STOPPED', 'stopped by user']);
    await waitUntil(async () => remote.connections() === 0, 5000);
    const logs = await sb.dstack(['logs', job.id]);
    expect([logs.stdout, logs.stderr]).toEqual([
      '',
      '[dstack] stopped before its commands started: they did not run, and no artifacts are saved\n',
    ]);

    remote.hold(false);
    expect((await sb.dstack(['resume', run])).stdout).toBe(`${job.id} cloned SUBMITTED\n`);
    await waitUntil(async () => (await jobOf(run)).status === 'DONE', 30_000);
    const resumed = await sb.dstack(['logs', job.id]);
    expect(resumed.stdout).toContain('COMMANDS RAN');
    expect(resumed.stderr).toContain(`code: 1 file from ${remote.url}`);
    expect(existsSync(join(dirname(sb.root), `ran-${run}`))).toBe(true);
  });
});
