/**
 * Docker jobs of a runner that is not root, against the test engine: the CLI, its server and
 * runner run as a throwaway uid (no account: only files and processes carry it) whose group is
 * the engine socket's, as a user of the `docker` group. Jobs in containers run as root, so what
 * they write in their workspace is root's on the host until the runner gets it back (an image's
 * user other than root gets the folders first, and gives them back the same way): then their
 * artifacts are saved and their folders removed, after a normal end, an abort (SIGKILL, no
 * trap in the container runs) and a crash of the runner. What the runner cannot read or remove
 * all the same is named (with a failed job's exit code, when its commands failed too).
 */
import { spawnSync } from 'node:child_process';
import { chown, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORK_ROOT_LABEL } from '../../src/runner/executors/docker/container-spec.js';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { busyboxVariant, ensureDocker, useDockerEnvironment } from './docker-env.js';
import { BIN, Sandbox, waitUntil, type SandboxUser } from './harness.js';

/** No account has it here; the engine's socket group is added in beforeAll. */
const UID = 54321;

const WORKFLOWS = `workflows:
  - name: as-root
    image: dstack-test/busybox
    commands:
      - mkdir -p out/sub /opt/env/bin
      - echo made > out/sub/f
      - chmod 700 out/sub
      - echo tool > /opt/env/bin/tool
    artifacts: [out, /opt/env]
  - name: sleepy
    image: dstack-test/busybox
    commands:
      - mkdir -p out/sub && echo made > out/sub/f && chmod 700 out/sub
      - echo ready
      - sleep 300
    artifacts: [out]
  - name: unreadable-file
    image: dstack-test/busybox
    commands:
      - mkdir -p out && echo x > out/secret && chmod 000 out/secret
    artifacts: [out]
  - name: unreadable-folder
    image: dstack-test/busybox
    commands:
      - mkdir -p out/private && echo x > out/private/f && chmod 000 out/private
    artifacts: [out]
  - name: unreadable-crash
    image: dstack-test/busybox
    commands:
      - mkdir -p out && echo x > out/secret && chmod 000 out/secret; exit 3
    artifacts: [out]
  - name: unreadable-crash-on-host
    commands:
      - mkdir -p out && echo x > out/secret && chmod 000 out/secret; exit 3
    artifacts: [out]
  - name: quick
    image: dstack-test/busybox
    commands: [echo hi]
  - name: image-user
    image: dstack-test/busybox-variant:user-1234
    commands:
      - mkdir -p out/sub /opt/env/bin
      - echo made > out/sub/f
      - echo tool > /opt/env/bin/tool
    artifacts: [out, /opt/env]
`;

describe('docker jobs of a runner that is not root', () => {
  let sb: Sandbox;
  let user: SandboxUser;
  let restore: () => void;
  let docker: Docker;

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    await busyboxVariant('user-1234', { user: '1234' });
    const endpoint = parseDockerHost(await ensureDocker());
    docker = new Docker(endpoint.options);
    user = { uid: UID, gid: (await stat(endpoint.options.socketPath!)).gid };
    // The CLI runs as that uid from this checkout: a folder above it closed to others (a clone
    // under /root) would fail every step with EACCES; say so once, here.
    const reads = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(BIN)}, 4)`], user);
    if (reads.status !== 0)
      throw new Error(
        `uid ${UID} cannot read ${BIN}: this test needs the checkout where other users can read it (not under /root)`,
      );
    sb = await Sandbox.create({ user });
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    restore?.();
  });

  const runner = () => join(sb.home, 'runner');
  const lastJob = async () => (await sb.lastRun()).jobs[0]!;
  /** What is left of finished jobs: folders in the runner's jobs and trash, and their containers. */
  const leftovers = async () => {
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [`${WORK_ROOT_LABEL}=${runner()}`] },
    });
    const folders = async (name: string) => (await readdir(join(runner(), name)).catch(() => [])).sort();
    return { jobs: await folders('jobs'), trash: await folders('trash'), containers: containers.length };
  };
  const clean = { jobs: [], trash: [], containers: 0 };
  const waitForClean = () =>
    waitUntil(
      async () => JSON.stringify(await leftovers()) === JSON.stringify(clean),
      20_000,
      async () => JSON.stringify(await leftovers()),
    );
  /** Files under the sandbox's home (server data, runner work dir) that are not the user's. */
  const foreign = async () => {
    const found: string[] = [];
    for (const name of await readdir(sb.home, { recursive: true })) {
      if ((await lstat(join(sb.home, name))).uid !== user.uid) found.push(name);
    }
    return found;
  };
  const serverLog = () => readFile(join(sb.home, 'server', 'server.log'), 'utf8');

  /** Run `workflow`, which writes out/sub/f and /opt/env/bin/tool: DONE, both saved; the job. */
  const runAndList = async (workflow: string) => {
    const r = await sb.dstack(['run', workflow]);
    expect(r.code, r.stderr).toBe(0);
    const job = await lastJob();
    expect([job.status, job.reason]).toEqual(['DONE', 'exit code 0']);
    const list = await sb.dstack(['artifacts', job.id]);
    expect(list.stdout).toMatch(/^out\s+out\/sub\/f\s+5B$/m);
    expect(list.stdout).toMatch(/^\/opt\/env\s+opt\/env\/bin\/tool\s+5B$/m);
    return job;
  };

  it('saves what its job wrote as root, a 0700 folder and an absolute path included, and removes the folder', async () => {
    const job = await runAndList('as-root');
    const restored = join(sb.root, '..', 'restored');
    expect((await sb.dstack(['artifacts', job.id, '--output', restored])).code).toBe(0);
    expect(await readFile(join(restored, 'out', 'sub', 'f'), 'utf8')).toBe('made\n');
    await waitForClean();
    expect(await foreign()).toEqual([]);
  });

  it("saves what a job wrote as its image's user (1234, not root), and removes its folder", async () => {
    await runAndList('image-user');
    await waitForClean();
    expect(await foreign()).toEqual([]);
  });

  it('gets back the files of a job aborted with SIGKILL, before its container could give them', async () => {
    const name = (await sb.dstack(['run', 'sleepy', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'), 60_000);
    await sb.dstack(['stop', '--abort', name]);
    await waitUntil(async () => (await lastJob()).status === 'ABORTED', 60_000);
    await waitForClean();
    expect(await foreign()).toEqual([]);
  });

  it('gets back the files of a job whose runner crashed, when the runner starts again', async () => {
    const name = (await sb.dstack(['run', 'sleepy', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'), 60_000);
    const pid = Number((await readFile(join(sb.home, 'server', 'server.pid'), 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    expect((await leftovers()).containers).toBe(1); // its job's container runs on
    // A new server, whose runner cleans what the last one left.
    // Its files given back, the new runner saves them as a stop does: STOPPED, resumable.
    const job = await waitUntil(async () => {
      const j = await lastJob();
      return j.status === 'STOPPED' && j;
    }, 60_000);
    expect(job.reason).toBe(`stopped: its runner restarted; its artifacts were saved (dstack resume ${name})`);
    expect((await sb.dstack(['artifacts', job.id])).stdout).toMatch(/^out\s+out\/sub\/f\s+5B$/m);
    await waitForClean();
    expect(await foreign()).toEqual([]);
    // The container's script went with it.
    expect((await readdir(runner())).filter((n) => n.endsWith('.sh'))).toEqual([]);
    const warnings = (await serverLog()).split('\n').filter((line) => line.includes(' WARN '));
    expect(warnings.join('\n')).toContain('removed 1 container a previous runner left');
    expect(warnings.join('\n')).not.toContain('cannot remove');
  });

  it('fails a job whose artifact it cannot read, naming the path, and still removes its folder', async () => {
    expect((await sb.dstack(['run', 'unreadable-file'])).code).toBe(1);
    const file = await lastJob();
    expect([file.status, file.reason]).toEqual([
      'FAILED',
      `artifact 'out': out/secret is not readable by the runner (uid ${UID})`,
    ]);
    expect((await sb.dstack(['run', 'unreadable-folder'])).code).toBe(1);
    const folder = await lastJob();
    expect([folder.status, folder.reason]).toEqual([
      'FAILED',
      `artifact 'out': out/private is not readable by the runner (uid ${UID})`,
    ]);
    await waitForClean(); // a folder of its own that it may not write to is made writable first
  });

  it('fails a job whose commands failed and whose artifact it cannot read, saying both', async () => {
    for (const workflow of ['unreadable-crash', 'unreadable-crash-on-host']) {
      const r = await sb.dstack(['run', workflow]);
      expect(r.code).toBe(1);
      const job = await lastJob();
      const reason = `exit code 3, and its artifacts could not be saved: artifact 'out': out/secret is not readable by the runner (uid ${UID})`;
      expect([job.status, job.reason, job.exitCode]).toEqual(['FAILED', reason, 3]);
      expect(r.stderr).toContain(`[dstack] ${reason}\n`);
      expect((await sb.dstack(['artifacts', job.id])).stdout).toBe(
        `job ${job.id} declares artifacts (out) but saved none: it FAILED (${reason}) without saving them\n`,
      );
    }
    await waitForClean();
  });

  it('says once, naming the folder and why, what its trash cannot remove', async () => {
    // A job's folder in the trash with a folder root owns (a runner of an older version left it).
    const planted = join(runner(), 'trash', 'planted-job');
    const out = join(planted, 'workspace', 'out');
    await mkdir(out, { recursive: true, mode: 0o755 });
    await writeFile(join(out, 'f'), 'x');
    for (const dir of [planted, join(planted, 'workspace')]) await chown(dir, user.uid, user.gid);
    const expected =
      `cannot remove ${planted}: ${out} is owned by root (mode 755), not by this runner's user (uid ${UID}): ` +
      'remove it as root (a runner tries again when it starts)';
    const said = async () => (await serverLog()).split('\n').filter((line) => line.includes(expected)).length;
    for (let i = 0; i < 2; i++) {
      expect((await sb.dstack(['run', 'quick'])).code).toBe(0);
      // Swept: all but the planted folder is gone.
      await waitUntil(
        async () => JSON.stringify(await leftovers()) === JSON.stringify({ ...clean, trash: ['planted-job'] }),
      );
    }
    expect(await said()).toBe(1);
    await rm(planted, { recursive: true });
  });
});
