/**
 * Images whose USER is not root, against the test engine: their jobs can write their workspace
 * and absolute artifact folders (which the runner made), by a uid or by a name of the image's
 * /etc/passwd, and the files come back to the runner afterwards: to root for a runner that is
 * root, to its user for one that is not.
 */
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DockerExecutor } from '../../../src/runner/executors/docker-executor.js';
import { WORK_ROOT_LABEL } from '../../../src/runner/executors/docker/container-spec.js';
import Docker from 'dockerode';
import { parseDockerHost } from '../../../src/runner/executors/docker/engine.js';
import { handToImageUser, type Owner } from '../../../src/runner/executors/docker/ownership.js';
import { busyboxVariant, ensureDocker, PYTHON } from '../../e2e/docker-env.js';
import { shellQuote } from '../../../src/core/variables.js';

/** A runner's user that is not root. */
const RUNNER_USER: Owner = { uid: 54321, gid: 54322 };

let host: string;
/** `docker commit --change 'USER 1234'` of the busybox test image, as the tester made it. */
let byUid: string;
/** One whose USER is a name its /etc/passwd gives (uid 2345, group 2346). */
let byName: string;
const label = `/tmp/dstack-image-user-test-${process.pid}`;

beforeAll(async () => {
  host = await ensureDocker();
  byUid = await busyboxVariant('user-1234', { user: '1234' });
  byName = await busyboxVariant('user-app', {
    user: 'app',
    setup: "echo 'app:x:2345:2346::/:/bin/sh' >> /etc/passwd && echo 'app:x:2346:' > /etc/group",
  });
}, 900_000);

describe('a job in an image whose USER is not root', () => {
  let workspace: string;
  let mount: string;
  let scripts: string;
  beforeEach(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'dstack-image-user-'));
    mount = await mkdtemp(join(tmpdir(), 'dstack-image-user-mount-'));
    scripts = await mkdtemp(join(tmpdir(), 'dstack-image-user-scripts-'));
  });
  afterEach(async () => {
    for (const dir of [workspace, mount, scripts]) await rm(dir, { recursive: true, force: true });
  });

  const run = async (image: string, owner?: Owner, more: string[] = []) => {
    let output = '';
    const notes: string[] = [];
    const executor = new DockerExecutor({
      host,
      network: 'none',
      scriptDir: scripts,
      labels: { [WORK_ROOT_LABEL]: label },
      ...(owner && { owner }),
    });
    const execution = await executor.start({
      jobId: `image-user-${Math.random().toString(16).slice(2, 10)}`,
      workspace,
      commands: ['id -u', 'mkdir out', 'echo made > out/f', 'echo tool > /opt/env/tool', ...more],
      env: {},
      image,
      mounts: [{ host: mount, container: '/opt/env' }],
      onOutput: (_stream, chunk) => void (output += chunk.toString()),
      onNote: (text) => notes.push(text),
    });
    return { exit: await execution.exit, output, notes };
  };
  /** The owners (uid:gid) of the job's folders and everything in them. */
  const owners = async () => {
    const found = new Set<string>();
    for (const root of [workspace, mount]) {
      for (const name of ['', ...(await readdir(root, { recursive: true }))]) {
        const info = await lstat(join(root, name));
        found.add(`${info.uid}:${info.gid}`);
      }
    }
    return found;
  };

  it('writes its workspace and absolute artifact folders as a uid, and gives them back to a root runner', async () => {
    const r = await run(byUid);
    expect([r.exit.code, r.output, r.notes]).toEqual([0, '1234\n', []]);
    expect(await readFile(join(workspace, 'out', 'f'), 'utf8')).toBe('made\n');
    expect(await readFile(join(mount, 'tool'), 'utf8')).toBe('tool\n');
    expect(await owners()).toEqual(new Set(['0:0']));
  });

  it('gives back folders the job left with no permissions at all, and what is in them', async () => {
    const r = await run(byUid, RUNNER_USER, ['mkdir -p out/shut/deep', 'echo s > out/shut/deep/f', 'chmod 0 out/shut']);
    expect([r.exit.code, r.output, r.notes]).toEqual([0, '1234\n', []]);
    expect(await owners()).toEqual(new Set([`${RUNNER_USER.uid}:${RUNNER_USER.gid}`]));
  });

  it("writes them as a name of the image's, and gives them back to a runner that is not root", async () => {
    const r = await run(byName, RUNNER_USER);
    expect([r.exit.code, r.output, r.notes]).toEqual([0, '2345\n', []]);
    expect(await readFile(join(workspace, 'out', 'f'), 'utf8')).toBe('made\n');
    expect(await owners()).toEqual(new Set([`${RUNNER_USER.uid}:${RUNNER_USER.gid}`]));
  });

  it("says in the job's log when the folders cannot be given to the user, and runs all the same", async () => {
    const bare = await busyboxVariant('no-chown', { user: '1234', setup: 'rm /bin/chown' });
    const r = await run(bare);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(
      /^could not give the job's folders to the image's user '1234' \(.*chown.*\): its commands may not be able to write them$/s,
    );
    expect(r.exit.code).not.toBe(0);
    // Its stdout (`id -u`) and stderr (mkdir's) come on two streams, in no set order.
    expect(r.output.split('\n').sort()).toEqual(['', '1234', "mkdir: can't create directory 'out': Permission denied"]);
    // Nothing was given, so no container tried to give it back (its failure would be a second note).
    expect(await owners()).toEqual(new Set(['0:0']));
  });

  it('gives back what a hand-over that failed halfway gave to the user', async () => {
    // A chown that gives the folders to the image's user and fails all the same; back to root it works.
    const halfway = await busyboxVariant('user-1234-chown-halfway', {
      user: '1234',
      setup:
        "rm /bin/chown && printf '%s\\n' '#!/bin/sh' 'busybox chown \"$@\" || exit' " +
        '\'case "$*" in *1234*) echo "chown: giving up" >&2; exit 1;; esac\' > /bin/chown && chmod +x /bin/chown',
    });
    const r = await run(halfway);
    expect(r.notes).toEqual([
      expect.stringMatching(/^could not give the job's folders to the image's user '1234' \(.*giving up\): /),
    ]);
    expect([r.exit.code, r.output]).toEqual([0, '1234\n']);
    expect(await owners()).toEqual(new Set(['0:0']));
  });
});

describe('the chown that hands the folders over', () => {
  it("is ended at its time limit, container and all, when the image's chown never ends", async () => {
    const hanging = await busyboxVariant('user-1234-chown-hangs', {
      user: '1234',
      setup: "rm /bin/chown && printf '#!/bin/sh\\nsleep 600\\n' > /bin/chown && chmod +x /bin/chown",
    });
    const docker = new Docker(parseDockerHost(host).options);
    const folder = await mkdtemp(join(tmpdir(), 'dstack-image-user-hang-'));
    const labels = { 'dstack.test.chown-hangs': String(process.pid) };
    try {
      await expect(
        handToImageUser(docker, hanging, [{ host: folder, container: '/workspace' }], '1234', labels, 2000),
      ).rejects.toThrow(`chown in a container of '${hanging}' did not end in 2 s`);
      const left = await docker.listContainers({
        all: true,
        filters: { label: [`dstack.test.chown-hangs=${process.pid}`] },
      });
      expect(left).toEqual([]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 120_000);

  it("runs the image's chown with only what a chown needs: two capabilities, one CPU, bounded memory and processes, no network", async () => {
    // A chown that says what it was given, then fails: its last lines come back in the error.
    const script = [
      '#!/bin/sh',
      "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status | tr '\\t\\n' '  '; echo",
      'limit() { cat "$1" 2>/dev/null || cat "$2"; }',
      'echo "limits $(limit /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes)' +
        ' $(limit /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max)' +
        ' $(limit /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"',
      'echo "network $(ls /sys/class/net)"',
      'exit 3',
    ];
    const telling = await busyboxVariant('user-1234-chown-tells-v1', {
      user: '1234',
      setup: `rm /bin/chown && printf '%s\\n' ${script.map(shellQuote).join(' ')} > /bin/chown && chmod +x /bin/chown`,
    });
    const docker = new Docker(parseDockerHost(host).options);
    const folder = await mkdtemp(join(tmpdir(), 'dstack-image-user-confined-'));
    try {
      const said = await handToImageUser(docker, telling, [{ host: folder, container: '/workspace' }], '1234', {}).then(
        () => '',
        (e: Error) => e.message,
      );
      expect(said).toMatch(
        new RegExp(
          `^chown in a container of '${telling}' exited with code 3: ` +
            // CAP_CHOWN (bit 0) and CAP_DAC_OVERRIDE (bit 1)
            'CapEff: 0000000000000003 NoNewPrivs: 1 ?; ' +
            // 256 MiB, 64 processes, a CPU's quota of a 100 ms period (cgroup v1 or v2)
            'limits 268435456 64 100000( 100000)?; network lo$',
        ),
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 120_000);

  it("gives the image's chown no way to open files of the host outside its mounts (open_by_handle_at)", async () => {
    // The "shocker" escape: a handle of the root folder of the mounted folder's filesystem (ext4's
    // inode 2), opened through the mount. With CAP_DAC_READ_SEARCH it opened the host's /.
    const script = [
      '#!/usr/bin/python3',
      'import ctypes, os, struct, sys',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'class Handle(ctypes.Structure):',
      "    _fields_ = [('bytes', ctypes.c_uint), ('type', ctypes.c_int), ('id', ctypes.c_ubyte * 8)]",
      "root = Handle(8, 1, (ctypes.c_ubyte * 8)(*struct.pack('<II', 2, 0)))",
      'fd = libc.open_by_handle_at(os.open(sys.argv[-1], os.O_RDONLY), ctypes.byref(root), os.O_RDONLY)',
      "print(f'opened the host root, which holds {sorted(os.listdir(fd))[:5]}' if fd >= 0 else f'refused: errno {ctypes.get_errno()}')",
      'sys.exit(3)',
    ];
    const opening = await busyboxVariant('python-user-1234-chown-opens-by-handle-v1', {
      base: PYTHON,
      user: '1234',
      setup: `printf '%s\\n' ${script.map(shellQuote).join(' ')} > /usr/local/bin/chown && chmod +x /usr/local/bin/chown`,
    });
    const docker = new Docker(parseDockerHost(host).options);
    const folder = await mkdtemp(join(tmpdir(), 'dstack-image-user-by-handle-'));
    try {
      const said = await handToImageUser(docker, opening, [{ host: folder, container: '/workspace' }], '1234', {}).then(
        () => '',
        (e: Error) => e.message,
      );
      // EPERM: the kernel (and Docker's seccomp profile) refuse the call without CAP_DAC_READ_SEARCH.
      expect(said).toBe(`chown in a container of '${opening}' exited with code 3: refused: errno 1`);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 900_000);
});
