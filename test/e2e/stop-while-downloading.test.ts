/**
 * `dstack stop` and `dstack stop -a` of a job whose runner (a process of its own, as on a team
 * server) is still downloading its dependency's artifacts: the job ends without its commands
 * ever running, and a stopped one resumes. The server's store holds the download up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import { issueToken } from '../../src/server/auth.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { BIN, waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('a job stopped while its runner downloads its dependency’s artifacts', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  let runner: ChildProcess | undefined;
  /** While set, each blob of dep's artifacts is sent as far as its first chunk, then held until released. */
  let gate: { release: () => void; released: Promise<void>; reached: boolean } | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-stop-dl-'));
    t = await startTestServer();
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    await project.write({
      '.dstack/workflows.yaml': `workflows:
  - name: dep
    commands:
      - mkdir data
      - for i in 1 2 3 4; do head -c 8000000 /dev/urandom > data/$i.bin; done
    artifacts: [data]
  - name: consumer
    depends-on: [dep]
    commands:
      - touch ${work}/sideeffect-$run_name
      - echo SIDE EFFECT RAN
`,
    });
    const token = await issueToken(t.server.engine.store, 'runner', 'r1', false);
    runner = spawn(
      BIN,
      ['runner', 'start', '--server', t.server.url, '--token', token, '--work-dir', join(work, 'runner')],
      { env: { ...process.env, DSTACK_HOME: join(work, 'home') }, stdio: 'ignore', detached: true },
    );
    const submitted = await project.dstack(['run', 'dep', '-d']);
    expect(submitted.code).toBe(0);
    const dep = await waitUntil(async () => {
      const [job] = await t.server.engine.store.jobsOfRuns([submitted.stdout.trim()]);
      return job?.status === 'DONE' ? job : undefined;
    }, 60_000);
    const manifest = await t.server.engine.store.getArtifacts(dep.id);
    const digests = new Set(manifest!.artifacts.flatMap((a) => a.files.map((f) => f.digest)));
    const blobs = t.server.engine.blobs;
    const get = blobs.get.bind(blobs);
    blobs.get = async (digest) => {
      const content = await get(digest);
      const held = gate;
      if (!held || !digests.has(digest)) return content;
      held.reached = true;
      return Readable.from(
        (async function* () {
          let first = true;
          for await (const chunk of content) {
            yield chunk as Buffer;
            if (first) await held.released;
            first = false;
          }
        })(),
      );
    };
  });
  afterAll(async () => {
    gate?.release();
    try {
      if (runner?.pid) process.kill(-runner.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  /** `dstack run consumer -d`, once its job is downloading and held there. */
  async function downloadingConsumer(): Promise<{ run: string; job: JobRecord }> {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    gate = { release, released, reached: false };
    const submitted = await project.dstack(['run', 'consumer', '-d']);
    expect(submitted.code).toBe(0);
    const run = submitted.stdout.trim();
    const job = await waitUntil(async () => {
      const found = (await t.server.engine.store.jobsOfRuns([run])).find((j) => j.workflow === 'consumer');
      return gate?.reached && found?.status === 'DOWNLOADING' ? found : undefined;
    }, 30_000);
    return { run, job };
  }

  /** The job once it has ended, while the download is still held (none of the downloads goes on). */
  const ended = (id: string) =>
    waitUntil(async () => {
      const job = await t.server.engine.store.getJob(id);
      return job && ['STOPPED', 'ABORTED', 'FAILED', 'DONE'].includes(job.status) ? job : undefined;
    }, 10_000);

  it('stop -a ends it ABORTED at once; its commands never run', async () => {
    const { run, job } = await downloadingConsumer();
    const stopped = await project.dstack(['stop', '-a', run]);
    expect(stopped.stdout).toBe(`${job.id} consumer ABORTING\n`);
    const after = await ended(job.id);
    expect([after.status, after.reason]).toEqual(['ABORTED', 'aborted by user']);
    gate?.release();
    gate = undefined;
    const logs = await project.dstack(['logs', job.id]);
    // dstack's own lines go to stderr, the job's output to stdout: there is none.
    expect([logs.stdout, logs.stderr]).toEqual([
      '',
      '[dstack] aborted before its commands started: they did not run\n',
    ]);
    expect(await exists(join(work, `sideeffect-${run}`))).toBe(false);
  });

  it('stop ends it STOPPED at once, its commands not run; resume then runs them', async () => {
    const { run, job } = await downloadingConsumer();
    const stopped = await project.dstack(['stop', run]);
    expect(stopped.stdout).toBe(`${job.id} consumer STOPPING\n`);
    const after = await ended(job.id);
    expect([after.status, after.reason]).toEqual(['STOPPED', 'stopped by user']);
    gate?.release();
    gate = undefined;
    const logs = await project.dstack(['logs', job.id]);
    expect([logs.stdout, logs.stderr]).toEqual([
      '',
      '[dstack] stopped before its commands started: they did not run, and no artifacts are saved\n',
    ]);
    expect(await exists(join(work, `sideeffect-${run}`))).toBe(false);

    // Held no more: the resumed job downloads what it needs and runs.
    expect((await project.dstack(['resume', run])).stdout).toBe(`${job.id} consumer SUBMITTED\n`);
    await waitUntil(async () => (await t.server.engine.store.getJob(job.id))?.status === 'DONE', 30_000);
    expect((await project.dstack(['logs', job.id])).stdout).toContain('SIDE EFFECT RAN');
    expect(await exists(join(work, `sideeffect-${run}`))).toBe(true);
  });
});
