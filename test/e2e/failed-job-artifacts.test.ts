/**
 * A job whose commands fail saves its artifacts as a done or stopped one does (a training run
 * that crashes at epoch 90 keeps its checkpoints), on the host and in a container, through the
 * real CLI and its embedded server and runner; the cache never reuses it, its dependents fail,
 * and prune counts what it saved.
 */
import { readdir, readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import { useDockerEnvironment } from './docker-env.js';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: crash
    commands:
      - mkdir -p ck && echo epoch5 > ck/state; exit 1
    artifacts: [ck]
  - name: after-crash
    depends-on: [crash]
    commands: [echo never]
  - name: crash-docker
    image: dstack-test/busybox
    commands:
      - mkdir -p ck /opt/ck && echo epoch5 > ck/state && echo env > /opt/ck/tool; exit 1
    artifacts: [ck, /opt/ck]
  - name: killed
    commands:
      - mkdir -p ck && echo epoch7 > ck/state; kill -KILL $$
    artifacts: [ck]
  - name: out-of-memory
    image: dstack-test/python:3.11
    commands:
      - mkdir -p ck && echo epoch90 > ck/state
      - python3 -c "x = b'x' * (400 << 20); print('allocated')"
    resources:
      memory: 64MB
    artifacts: [ck]
  - name: never-started
    image: 127.0.0.1:1/dstack-test/missing:1
    commands: ['true']
    artifacts: [ck]
`;

describe('a failed job keeps its artifacts', () => {
  let sb: Sandbox;
  let restore: () => void;
  beforeAll(async () => {
    restore = await useDockerEnvironment();
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    restore?.();
  });

  /** Run `workflow` to its end: FAILED, exit code 1 from the CLI, its job's reason and exit code as given. */
  const runFailed = async (workflow: string, reason: string, exitCode?: number) => {
    const r = await sb.dstack(['run', workflow]);
    expect(r.code, r.stderr).toBe(1);
    const run = await sb.lastRun();
    const job = run.jobs[0]!;
    expect([job.status, job.reason, job.exitCode]).toEqual(['FAILED', reason, exitCode]);
    expect(r.stderr).toMatch(new RegExp(`\\n${job.id} +${workflow} +FAILED +${reason}\\n`));
    expect(r.stderr).toContain(`run ${run.name} FAILED\n`);
    return { r, run, job };
  };
  const download = async (job: JobRecord, file: string) => {
    const out = join(sb.root, '..', `out-${job.id}`);
    const got = await sb.dstack(['artifacts', job.id, '-o', out]);
    expect(got.code, got.stderr).toBe(0);
    return readFile(join(out, file), 'utf8');
  };

  for (const where of ['host', 'docker'] as const) {
    const workflow = where === 'host' ? 'crash' : 'crash-docker';
    it(`on the ${where}: saves them, says so as the run ends, and ends FAILED with the exit code`, async () => {
      const { r, job } = await runFailed(workflow, 'exit code 1', 1);
      const files = where === 'host' ? '1 file, 7B' : '2 files, 11B';
      expect(r.stderr).toMatch(new RegExp(`\\[dstack\\] saved artifacts: ${files} \\(\\d files?, \\d+B new\\)\\n`));
      const list = await sb.dstack(['artifacts', job.id]);
      expect(list.stdout).toMatch(/^ck\s+ck\/state\s+7B$/m);
      if (where === 'docker') expect(list.stdout).toMatch(/^\/opt\/ck\s+opt\/ck\/tool\s+4B$/m);
      expect(list.code).toBe(0);
      expect(await download(job, 'ck/state')).toBe('epoch5\n');
      const status = await sb.dstack(['status', job.runName]);
      expect(status.stdout).toMatch(new RegExp(`${job.id} +${workflow} .* FAILED exit code 1\\n`));
    });
  }

  it('is never reused from the cache, and the jobs that depend on it still fail', async () => {
    const first = (await runFailed('crash', 'exit code 1', 1)).job;
    const r = await sb.dstack(['run', 'after-crash']);
    expect(r.code).toBe(1);
    const [crash, after] = (await sb.lastRun()).jobs;
    // Run again, not taken from the failed one: it saves its own artifacts.
    expect(crash!.id).not.toBe(first.id);
    expect([crash!.status, crash!.reason, crash!.cachedFrom]).toEqual(['FAILED', 'exit code 1', undefined]);
    expect(r.stderr).toMatch(/^crash +\| \[dstack\] saved artifacts: 1 file, 7B/m);
    expect([after!.status, after!.reason]).toEqual(['FAILED', `dependency failed: crash (${crash!.id})`]);
    expect((await sb.dstack(['artifacts', crash!.id])).stdout).toMatch(/^ck\s+ck\/state\s+7B$/m);
  });

  it('saves them when a signal kills it on the host, or Docker ends it out of memory', async () => {
    const killed = await runFailed('killed', 'killed by signal SIGKILL');
    expect(await download(killed.job, 'ck/state')).toBe('epoch7\n');
    const oom = await runFailed('out-of-memory', 'out of memory: over its limit of 64MB from resources.memory', 137);
    expect(oom.r.stdout).not.toContain('allocated');
    expect(await download(oom.job, 'ck/state')).toBe('epoch90\n');
  });

  it('saves none for a job that failed before its commands ran, and says why', async () => {
    const r = await sb.dstack(['run', 'never-started']);
    expect(r.code).toBe(1);
    const job = (await sb.lastRun()).jobs[0]!;
    expect(job.status).toBe('FAILED');
    expect(job.reason).toMatch(
      /^image '127\.0\.0\.1:1\/dstack-test\/missing:1' is not on this runner and pulling it failed/,
    );
    expect(r.stderr).not.toContain('saved artifacts');
    expect(await sb.dstack(['artifacts', job.id])).toEqual({
      code: 0,
      stdout: `job ${job.id} declares artifacts (ck) but saved none: it FAILED (${job.reason}) without saving them\n`,
      stderr: '',
    });
  });

  it("prune keeps a failed job's artifact blobs while its run stays, and deletes them with it", async () => {
    const { job } = await runFailed('crash', 'exit code 1', 1);
    // Older than the hour in which prune deletes no blob, whatever refers to it.
    const blobs = join(sb.home, 'server', 'artifacts');
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const e of await readdir(blobs, { recursive: true, withFileTypes: true }))
      if (e.isFile()) await utimes(join(e.parentPath, e.name), old, old);
    const kept = await sb.dstack(['prune', '--older-than', '7d']);
    expect(kept.stdout).toBe(`pruned 0 runs of project ${sb.root}, 0 blobs (0B; those from the last hour stay)\n`);
    expect(await download(job, 'ck/state')).toBe('epoch5\n');
    const all = await sb.dstack(['prune', '--older-than', '0s']);
    expect(all.stdout).toMatch(/^pruned \d+ runs of project [^ ]+ \([^)]+\), [1-9]\d* blobs? \(/);
    expect((await sb.dstack(['artifacts', job.id])).stderr).toBe(
      `error: no run or job named '${job.id}' (see 'dstack status --last 10')\n`,
    );
  });
});
