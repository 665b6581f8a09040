/**
 * Docker jobs through the real CLI on the embedded default, against the test engine
 * (scripts/docker-test-env.sh): commands, environment, limits, out of memory, artifacts at
 * absolute paths, stop and abort leaving no container, a missing image, and the start-up cost.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/records.js';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { WORK_ROOT_LABEL } from '../../src/runner/executors/docker/container-spec.js';
import { BUSYBOX, ensureDocker, useDockerEnvironment } from './docker-env.js';
import { Sandbox, waitUntil } from './harness.js';
import { slowSaverWorkflow } from './checkpointing.js';

const WORKFLOWS = `workflows:
  - name: hello
    image: dstack-test/busybox
    commands:
      - echo "Hello, $name! in $(pwd) NAME=$NAME"
      - echo "job=$job_id run=$run_name greeting=$GREETING"
      - ls
      - echo to-stderr >&2
    environment:
      GREETING: hi there
  - name: limits
    image: dstack-test/busybox
    commands:
      - cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max
      - cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max
    resources:
      cpu: 2
      memory: 256MB
  - name: hog
    image: dstack-test/python:3.11
    commands:
      - python3 -c "x = b'x' * (400 << 20); print('allocated')"
    resources:
      memory: 64MB
  - name: env-build
    image: dstack-test/busybox
    commands:
      - mkdir -p /opt/env/bin out
      - echo tool-v1 > /opt/env/bin/tool
      - ln -s /opt/env/bin/tool /opt/env/current
      - ln -s /etc/passwd /opt/env/passwd
      - echo made > out/result.txt
    artifacts:
      - /opt/env
      - out
  - name: env-use
    image: dstack-test/busybox
    depends-on: [env-build]
    commands:
      - cat /opt/env/bin/tool out/result.txt /opt/env/current
  - name: sleepy
    image: dstack-test/busybox
    commands:
      - mkdir -p checkpoint
      - trap 'echo got SIGTERM; echo saved > checkpoint/state; exit 0' TERM
      - echo ready
      - while true; do sleep 0.1; done
    artifacts:
      - checkpoint
${slowSaverWorkflow('slow-saver', 'image: dstack-test/busybox')}  - name: missing-image
    image: 127.0.0.1:1/dstack-test/missing:1
    commands: ['true']
  - name: misspelt-tag
    image: 127.0.0.1:1/dstack-test/tagged:v2
    commands: ['true']
  - name: on-host
    commands: [echo hi]
  - name: in-container
    image: dstack-test/busybox
    commands: [echo hi]
  - name: env-path
    image: dstack-test/busybox
    commands:
      - ls -d /workspace
      - echo "PATH=$PATH LIBS=$LIBS"
    environment:
      PATH: /opt/tools/bin:$PATH
      LIBS: \${HOME}/lib:5$$
  - name: misspelt-output
    image: dstack-test/busybox
    commands:
      - mkdir -p /output && echo x > /output/model.bin
    artifacts: [/ouput]
`;

describe('docker jobs', () => {
  let sb: Sandbox;
  let restore: () => void;
  let docker: Docker;

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    docker = new Docker(parseDockerHost(await ensureDocker()).options);
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  global:\n    name: world\n',
      'data.txt': 'x',
    });
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    restore?.();
  });

  const jobOf = async (name: string) => (await sb.runView(name)).jobs[0]!;
  /** The containers this sandbox's runner has (it labels them with its work dir). */
  const containers = () =>
    docker.listContainers({ all: true, filters: { label: [`${WORK_ROOT_LABEL}=${join(sb.home, 'runner')}`] } });

  it('runs the commands in the image, in the workspace at /workspace, with variables and environment', async () => {
    const r = await sb.dstack(['run', 'hello', '--name', 'dstack']);
    expect(r.stderr).toContain('to-stderr');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Hello, dstack! in /workspace NAME=dstack');
    expect(r.stdout).toMatch(/job=[0-9a-f]{12} run=[a-z]+-[a-z]+-\d+ greeting=hi there/);
    expect(r.stdout).toContain('data.txt');
    expect(await containers()).toEqual([]);
  });

  it("expands $PATH and ${HOME} in environment: from the image's own, in the container's shell", async () => {
    const r = await sb.dstack(['run', 'env-path']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('/workspace\n');
    expect(r.stdout).toMatch(/PATH=\/opt\/tools\/bin:\/\S*bin LIBS=\/\S*\/lib:5\$\n/);
  });

  it('limits the container to the cpu and memory the workflow asks for', async () => {
    const r = await sb.dstack(['run', 'limits']);
    expect(r.code, r.stderr).toBe(0);
    // cfs quota per 100 ms period: 2 CPUs; memory in bytes (GB and MB are powers of ten).
    expect(r.stdout).toBe('200000\n256000000\n');
  });

  it('ends a job over its memory limit as FAILED with reason "out of memory", naming the limit', async () => {
    const r = await sb.dstack(['run', 'hog']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/^hog \| allocated$/m);
    const job = (await sb.lastRun()).jobs[0]!;
    const reason = 'out of memory: over its limit of 64MB from resources.memory';
    expect([job.status, job.reason]).toEqual(['FAILED', reason]);
    expect(r.stderr).toMatch(/FAILED\s+out of memory: over its limit of 64MB from resources\.memory/);
  });

  it('saves an absolute artifact path from the container and restores it for the job that depends on it', async () => {
    const r = await sb.dstack(['run', 'env-use']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/env-use +\| tool-v1\nenv-use +\| made\nenv-use +\| tool-v1\n/);
    const build = (await sb.lastRun()).jobs[0]!;
    // A link inside the artifact is kept, in the container's terms; one that leads out of it is not.
    expect((await sb.dstack(['logs', build.id])).stderr).toContain(
      "[dstack] artifact '/opt/env': left out opt/env/passwd -> /etc/passwd (a link to outside the artifact)\n",
    );
    const list = await sb.dstack(['artifacts', build.id]);
    expect(list.stdout).toMatch(/\/opt\/env\s+opt\/env\/bin\/tool\s+8B/);
    expect(list.stdout).toMatch(/\/opt\/env\s+opt\/env\/current\s+-> bin\/tool\n/);
    expect(list.stdout).toMatch(/out\s+out\/result\.txt\s+5B/);
  });

  it('notes an absolute artifact that is an empty folder: nothing was written at a misspelt path', async () => {
    const r = await sb.dstack(['run', 'misspelt-output']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "[dstack] artifact '/ouput' is an empty folder: nothing was written there (is the path the one the job writes?)\n",
    );
  });

  it('stops a container with SIGTERM, saves its artifacts, and leaves no container', async () => {
    const name = (await sb.dstack(['run', 'sleepy', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'), 60_000);
    expect(await containers()).toHaveLength(1);
    await sb.dstack(['stop', name]);
    const job = await waitUntil(async () => {
      const j = await jobOf(name);
      return j.status === 'STOPPED' && j;
    }, 60_000);
    expect((await sb.dstack(['logs', name])).stdout).toContain('got SIGTERM');
    const out = join(sb.root, '..', 'stopped');
    await sb.dstack(['artifacts', job.id, '--output', out]);
    expect(await readFile(join(out, 'checkpoint/state'), 'utf8')).toBe('saved\n');
    expect(await containers()).toEqual([]);
  });

  it("lets a command's SIGTERM handler finish saving, though the container's shell ends first", async () => {
    const name = (await sb.dstack(['run', 'slow-saver', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'), 60_000);
    await sb.dstack(['stop', name]);
    const job = await waitUntil(async () => {
      const j = await jobOf(name);
      return j.status === 'STOPPED' && j;
    }, 60_000);
    const log = (await sb.dstack(['logs', name])).stdout;
    expect(log).toContain('saved it');
    expect(log).not.toContain('training done');
    const out = join(sb.root, '..', 'slow-saved');
    await sb.dstack(['artifacts', job.id, '--output', out]);
    expect(await readFile(join(out, 'checkpoint/state'), 'utf8')).toBe('saved\n');
    expect(await containers()).toEqual([]);
  });

  it('aborts a container at once, saving nothing, and leaves no container', async () => {
    const name = (await sb.dstack(['run', 'sleepy', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'), 60_000);
    await sb.dstack(['stop', '--abort', name]);
    const job = await waitUntil(async () => {
      const j = await jobOf(name);
      return j.status === 'ABORTED' && j;
    }, 60_000);
    expect((await sb.dstack(['logs', name])).stdout).not.toContain('got SIGTERM');
    expect((await sb.dstack(['artifacts', job.id])).stdout).toBe(
      `job ${job.id} declares artifacts (checkpoint) but saved none: it was aborted, and an aborted job saves none\n`,
    );
    expect(await containers()).toEqual([]);
  });

  it('fails a job whose image cannot be had, naming the image', async () => {
    const r = await sb.dstack(['run', 'missing-image']);
    expect(r.code).toBe(1);
    const job = (await sb.lastRun()).jobs[0]!;
    expect(job.status).toBe('FAILED');
    expect(job.reason).toMatch(
      /^image '127\.0\.0\.1:1\/dstack-test\/missing:1' is not on this runner and pulling it failed: .*connection refused/,
    );
  });

  it("names the image's tags the runner has when the one asked for cannot be pulled (a misspelt tag)", async () => {
    const tagged = '127.0.0.1:1/dstack-test/tagged';
    await docker.getImage(BUSYBOX).tag({ repo: tagged, tag: 'v1' });
    try {
      expect((await sb.dstack(['run', 'misspelt-tag'])).code).toBe(1);
      expect((await sb.lastRun()).jobs[0]!.reason).toMatch(
        /^image '127\.0\.0\.1:1\/dstack-test\/tagged:v2' is not on this runner and pulling it failed: .*connection refused.*; this runner has 127\.0\.0\.1:1\/dstack-test\/tagged:v1$/,
      );
    } finally {
      await docker.getImage(`${tagged}:v1`).remove();
    }
  });

  it('measures what a container adds to a job (reported, not asserted)', async () => {
    const seconds = async (workflow: string) => {
      const runs: JobRecord[] = [];
      for (let i = 0; i < 3; i++) {
        expect((await sb.dstack(['run', workflow, '--no-cache'])).code).toBe(0);
        runs.push((await sb.lastRun()).jobs[0]!);
      }
      return runs.reduce((s, j) => s + (j.finishedAt! - j.startedAt!), 0) / runs.length / 1000;
    };
    const host = await seconds('on-host');
    const container = await seconds('in-container');
    console.log(
      `docker start-up overhead: ${(container - host).toFixed(2)} s per job ` +
        `(bash job ${host.toFixed(2)} s, docker job ${container.toFixed(2)} s, from claim to finish, mean of 3)`,
    );
    expect(container).toBeGreaterThan(0);
  });
});
