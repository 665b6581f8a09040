/**
 * A stopped job whose resume fails before its commands start stays resumable, through the real
 * CLI and its embedded server and runner: a dependency's artifact blob gone from the store (the
 * runner's download fails), and a container job's image gone from the Docker engine (its pull
 * fails, after the runner reported RUNNING). Once the cause is mended, `dstack resume` goes on
 * from the checkpoint the stop saved.
 */
import { createHash } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import { blobPath } from '../../src/files/blob-path.js';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { checkpointingWorkflow } from './checkpointing.js';
import { BUSYBOX, ensureDocker, useDockerEnvironment } from './docker-env.js';
import { Sandbox, waitUntil } from './harness.js';

/** prep's one artifact file: 2 MB, past what a runner keeps in memory, so each download asks the store. */
const DATA = 'x'.repeat(2_000_000);
const DATA_DIGEST = createHash('sha256').update(DATA).digest('hex');
/** An image only the test engine has (under a registry nothing listens on): removed, it cannot be pulled. */
const IMAGE = `127.0.0.1:1/dstack-test/resume-failed-${process.pid}:1`;

const WORKFLOWS = `workflows:
  - name: prep
    commands:
      - mkdir -p data
      - head -c 2000000 /dev/zero | tr '\\0' x > data/big.txt
    artifacts: [data]
${checkpointingWorkflow('train', 'depends-on: [prep]')}${checkpointingWorkflow('boxed', `image: ${IMAGE}`)}`;

const resumable = (run: string) => `its commands had not started, so it can still be resumed (dstack resume ${run})`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('resume of a job whose resume failed before its commands started', () => {
  let sb: Sandbox;
  let restore: () => void;
  let docker: Docker;

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    docker = new Docker(parseDockerHost(await ensureDocker()).options);
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    await docker
      ?.getImage(IMAGE)
      .remove()
      .catch(() => {});
    restore?.();
  });

  const jobOf = async (run: string, workflow: string): Promise<JobRecord> =>
    (await sb.runView(run)).jobs.find((j) => j.workflow === workflow)!;
  const when = (run: string, workflow: string, status: string) =>
    waitUntil(
      async () => {
        const job = await jobOf(run, workflow);
        return job.status === status && job;
      },
      60_000,
      async () => JSON.stringify(await jobOf(run, workflow)),
    );
  /** The run's log: its jobs' lines, then dstack's notes (on stderr). */
  const logs = async (run: string) => {
    const { stdout, stderr } = await sb.dstack(['logs', run]);
    return stdout + stderr;
  };

  /** `dstack run WORKFLOW -d`, stopped once running: its checkpoint (count 1, state saved) stored. */
  async function stoppedRun(workflow: string): Promise<{ run: string; job: JobRecord }> {
    const run = (await sb.dstack(['run', workflow, '-d'])).stdout.trim();
    await waitUntil(
      async () => (await logs(run)).includes('ready'),
      60_000,
      () => logs(run),
    );
    await sb.dstack(['stop', run]);
    return { run, job: await when(run, workflow, 'STOPPED') };
  }

  /** The job's checkpoint as stored now. */
  async function checkpoint(job: JobRecord, folder: string): Promise<string[]> {
    const out = join(sb.root, '..', folder);
    expect((await sb.dstack(['artifacts', job.id, '--output', out])).code).toBe(0);
    return Promise.all(['count', 'state'].map((f) => readFile(join(out, 'checkpoint', f), 'utf8')));
  }

  it("fails when a dependency's artifacts cannot be fetched, says it is resumable, and resumes from its stop's checkpoint", async () => {
    const { run, job } = await stoppedRun('train');
    const blob = blobPath(join(sb.home, 'server', 'artifacts'), DATA_DIGEST);
    const aside = `${blob}.aside`;
    await rename(blob, aside);

    expect((await sb.dstack(['resume', run])).stdout).toBe(`${job.id} train SUBMITTED\n`);
    const failed = await when(run, 'train', 'FAILED');
    const reason = `blob ${DATA_DIGEST} is not stored; ${resumable(run)}`;
    expect(failed.reason).toBe(reason);
    expect((await sb.dstack(['status', run])).stdout).toMatch(
      new RegExp(`^ +${job.id} +train .* FAILED ${escape(reason)}$`, 'm'),
    );
    expect(await logs(run)).not.toContain('starting from 1');
    expect(await checkpoint(failed, 'after-failure')).toEqual(['1\n', 'saved\n']);

    await rename(aside, blob);
    expect((await sb.dstack(['resume', run])).stdout).toBe(`${job.id} train SUBMITTED\n`);
    await waitUntil(
      async () => (await logs(run)).includes('starting from 1'),
      60_000,
      () => logs(run),
    );
    const text = await logs(run);
    expect(text.split('starting from 0').length).toBe(2);
    expect(text).toContain("restored this job's saved artifacts: 2 files");
    await sb.dstack(['stop', '--abort', run]);
    await when(run, 'train', 'ABORTED');
  });

  it('fails when its image cannot be pulled, after its runner said it was starting, and resumes once the image is back', async () => {
    const [repo, tag] = [IMAGE.slice(0, IMAGE.lastIndexOf(':')), IMAGE.slice(IMAGE.lastIndexOf(':') + 1)];
    await docker.getImage(BUSYBOX).tag({ repo, tag });
    const { run, job } = await stoppedRun('boxed');
    await docker.getImage(IMAGE).remove(); // the tag only: busybox keeps its layers

    expect((await sb.dstack(['resume', run])).stdout).toBe(`${job.id} boxed SUBMITTED\n`);
    const failed = await when(run, 'boxed', 'FAILED');
    expect(failed.reason).toMatch(
      new RegExp(
        `^image '${escape(IMAGE)}' is not on this runner and pulling it failed: .*; ${escape(resumable(run))}$`,
      ),
    );
    expect(await checkpoint(failed, 'boxed-after-failure')).toEqual(['1\n', 'saved\n']);

    await docker.getImage(BUSYBOX).tag({ repo, tag });
    expect((await sb.dstack(['resume', job.id])).stdout).toBe(`${job.id} boxed SUBMITTED\n`);
    await waitUntil(
      async () => (await logs(run)).includes('starting from 1'),
      60_000,
      () => logs(run),
    );
    await sb.dstack(['stop', '--abort', run]);
    await when(run, 'boxed', 'ABORTED');
  });
});
