/**
 * A team `dstack server` on S3 killed (SIGKILL) while a remote runner uploads a job's artifacts,
 * and started again on its data folder and port: the runner waits for it, says so in the job's
 * log, sends what it had left, and the job ends DONE with every artifact file byte for byte.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../services/free-port.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { BIN, waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';

// 800 small files (packs, through the server) and 2 big ones (straight to S3), from a seed.
const WRITE = `python3 -c "import os, random; r = random.Random(7); os.makedirs('out/small', exist_ok=True); [open(f'out/small/{i:03d}.bin', 'wb').write(r.randbytes(100_000)) for i in range(800)]; [open(f'out/big{i}.bin', 'wb').write(r.randbytes(20_000_000)) for i in range(2)]"`;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('a team server on S3 killed while a runner uploads', () => {
  let moto: S3Server;
  let work: string;
  let port: number;
  let bucket: string;
  const children: ChildProcess[] = [];
  let server: ChildProcess | undefined;
  let output = '';

  function startServer(): ChildProcess {
    const child = spawn(
      BIN,
      [
        'server',
        '--port',
        String(port),
        '--data-dir',
        join(work, 'server'),
        '--storage',
        `s3://${bucket}/team`,
        '--no-local-runner',
      ],
      {
        env: { ...process.env, ...moto.env, DSTACK_HOME: join(work, 'server-home'), NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-server-killed-'));
    moto = await startMoto();
    ({ bucket } = await createBucket(moto));
    port = await freePort();
  }, 60_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await moto?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('loses nothing: the runner waits, sends the rest, and the job ends DONE with its artifacts whole', async () => {
    server = startServer();
    const url = `http://127.0.0.1:${port}`;
    const token = await waitUntil(
      async () => /admin token \(shown once[^)]*\): (\S+)/.exec(output)?.[1],
      60_000,
      async () => output,
    );
    const project = await RemoteProject.create({ url, token });
    try {
      await project.write({
        '.dstack/workflows.yaml': `workflows:\n  - name: save\n    commands:\n      - ${JSON.stringify(WRITE)}\n    artifacts: [out]\n`,
      });
      const added = await project.dstack(['runners', 'add', 'r1']);
      const runnerToken = /DSTACK_TOKEN=(\S+)/.exec(added.stdout + added.stderr)?.[1];
      expect(runnerToken, added.stderr).toBeDefined();
      let runnerLog = '';
      const runner = spawn(BIN, ['runner', 'start', '--server', url, '--work-dir', join(work, 'runner')], {
        env: { ...process.env, ...moto.env, DSTACK_TOKEN: runnerToken!, DSTACK_HOME: join(work, 'runner-home') },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(runner);
      runner.stderr!.on('data', (c: Buffer) => (runnerLog += c.toString()));
      await waitUntil(
        async () => runnerLog.includes('runner r1 registered'),
        30_000,
        async () => runnerLog,
      );

      const submitted = await project.dstack(['run', 'save', '-d']);
      expect(submitted.code, submitted.stderr).toBe(0);
      const run = submitted.stdout.trim();
      const statusOf = async () =>
        (await project.dstack(['status'])).stdout.split('\n').find((l) => l.startsWith(run)) ?? '';
      await waitUntil(async () => (await statusOf()).includes('UPLOADING'), 60_000);
      server.kill('SIGKILL');
      await new Promise((r) => server!.once('exit', r));
      await sleep(3000); // the runner meets a server that is gone
      output = '';
      server = startServer();
      await waitUntil(
        async () => output.includes('dstack server at'),
        60_000,
        async () => output,
      );
      await waitUntil(async () => /\bDONE\b/.test(await statusOf()), 120_000, statusOf);

      const id = /\n\s+([0-9a-f]{12})\s/.exec((await project.dstack(['status'])).stdout)?.[1];
      expect(id).toBeDefined();
      const notes = (await project.dstack(['logs', id!])).stderr;
      expect(notes).toMatch(
        /uploading artifacts: waiting, retrying: cannot reach the dstack server at http:\/\/127\.0\.0\.1:\d+: /,
      );
      expect(notes).toContain('uploading artifacts: going on');
      expect(notes).toContain('saved artifacts: 802 files');

      const out = join(work, 'out');
      const got = await project.dstack(['artifacts', id!, '-o', out]);
      expect(got.code, got.stderr).toBe(0);
      // The same seed again, here: every file byte for byte.
      const expected = spawn('python3', [
        '-c',
        'import hashlib, random; r = random.Random(7); [print(hashlib.sha256(r.randbytes(100_000)).hexdigest()) for i in range(800)]; [print(hashlib.sha256(r.randbytes(20_000_000)).hexdigest()) for i in range(2)]',
      ]);
      let digests = '';
      expected.stdout.on('data', (c: Buffer) => (digests += c.toString()));
      await new Promise((r) => expected.once('exit', r));
      const want = digests.trim().split('\n');
      const names = [
        ...Array.from({ length: 800 }, (_, i) => `small/${String(i).padStart(3, '0')}.bin`),
        'big0.bin',
        'big1.bin',
      ];
      const have = await Promise.all(names.map(async (n) => sha256(await readFile(join(out, 'out', n)))));
      expect(have).toEqual(want);
    } finally {
      await project.dispose();
    }
  }, 300_000);
});
