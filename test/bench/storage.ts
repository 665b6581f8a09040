/**
 * Storage throughput, measured rather than asserted (`npm run bench:storage`):
 *   - artifacts: a ~200 MB folder (big files and many small ones) uploaded through the
 *     server and downloaded back, against `cp -r` of the same folder, on local disk and on
 *     S3 (moto_server) with big files going straight to S3;
 *   - logs: ~100 MB of short lines from a real process through the runner's shipper into
 *     the server, then read back by pages and followed.
 * Numbers depend on the machine and on what else runs on it: compare runs on one machine.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RunnerClient } from '../../src/client/runner-client.js';
import { describeFiles, walk } from '../../src/files/manifest.js';
import { downloadFiles } from '../../src/files/download.js';
import { uploadFiles } from '../../src/files/transfer.js';
import { LogShipper } from '../../src/runner/log-shipper.js';
import { issueToken } from '../../src/server/auth.js';
import { REPO } from '../services/paths.js';
import { createBucket, startMoto } from '../services/s3.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { makeJob, makeRun } from '../store/fixtures.js';

const exec = promisify(execFile);
const mb = (bytes: number) => bytes / 1e6;
const rate = (bytes: number, ms: number) => `${(mb(bytes) / (ms / 1000)).toFixed(0)} MB/s`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** 8 files of 20 MB and 2000 of 20 KB: 200 MB, the shape of a checkpoint folder with its small files. */
async function makeFolder(root: string): Promise<number> {
  let bytes = 0;
  await mkdir(join(root, 'small'), { recursive: true });
  for (let i = 0; i < 8; i++) {
    const data = randomBytes(20_000_000);
    await writeFile(join(root, `model-${i}.bin`), data);
    bytes += data.length;
  }
  for (let i = 0; i < 2000; i++) {
    const data = randomBytes(20_000);
    await writeFile(join(root, 'small', `${i}.json`), data);
    bytes += data.length;
  }
  return bytes;
}

async function artifacts(name: string, t: TestServer, folder: string, bytes: number, work: string) {
  const entries = await describeFiles(folder, await walk(folder));
  const [up, upMs] = await timed(() => uploadFiles(t.client, folder, entries));
  const out = join(work, `out-${name}`);
  const [down, downMs] = await timed(() => downloadFiles(t.client, out, entries));
  const [, cpMs] = await timed(() => exec('cp', ['-r', folder, join(work, `cp-${name}`)]));
  console.log(
    `artifacts on ${name}: ${entries.length} files, ${mb(bytes).toFixed(0)} MB\n` +
      `  upload   ${(upMs / 1000).toFixed(2)} s  ${rate(bytes, upMs)}  (${up.requests} requests)\n` +
      `  download ${(downMs / 1000).toFixed(2)} s  ${rate(bytes, downMs)}  (${down.requests} requests)\n` +
      `  cp -r    ${(cpMs / 1000).toFixed(2)} s  ${rate(bytes, cpMs)}`,
  );
}

/** Python that prints about 100 MB of short (~78 byte) lines, the worst case per byte. */
const SHORT_LINES = `import sys
line = b'loss acc epoch step lr grad \\xce\\xbb \\xf0\\x9f\\x9a\\x80 loss acc epoch step lr grad'
out = sys.stdout.buffer
for n in range(130):
    out.write(b''.join(b'%03d %05d %s\\n' % (n, i, line) for i in range(10000)))
`;

async function logs(what: string, args: string[]) {
  const t = await startTestServer();
  try {
    const run = makeRun('bench-run');
    const job = makeJob(run, 'spew', { id: 'abcdef012345' });
    await t.server.engine.store.createRun(run, [job], 'bench');
    const token = await issueToken(t.server.engine.store, 'runner', 'r1', false);
    await t.server.engine.transition(job.id, 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'r1');
    const runner = new RunnerClient({ url: t.server.url, token });
    const shipper = new LogShipper((e) => runner.appendLogs(job.id, e), 0, 200);
    let bytes = 0;
    const [, ingestMs] = await timed(async () => {
      const child = spawn('python3', args);
      child.stdout.on('data', (c: Buffer) => {
        bytes += c.length;
        shipper.write('stdout', c);
      });
      await new Promise((r) => child.on('close', r));
      await shipper.close();
    });
    const lines = await t.server.engine.logs.lastSequence(job.id);
    await t.server.engine.transition(job.id, 'DOWNLOADING', 'FAILED', { reason: 'bench' }, 'r1');
    const [paged, pagedMs] = await timed(async () => {
      let n = 0;
      for await (const page of t.client.logPages(job.id)) n += page.length;
      return n;
    });
    const [followed, followMs] = await timed(async () => {
      let n = 0;
      await t.client.followLogs(job.id, { onLines: (l) => void (n += l.length) });
      return n;
    });
    console.log(
      `logs, ${what}: ${mb(bytes).toFixed(0)} MB in ${lines} entries\n` +
        `  ingest (process -> shipper -> server -> disk) ${(ingestMs / 1000).toFixed(2)} s  ${rate(bytes, ingestMs)}  ${Math.round(lines / (ingestMs / 1000))} entries/s\n` +
        `  read by pages  ${paged} entries ${(pagedMs / 1000).toFixed(2)} s  ${rate(bytes, pagedMs)}\n` +
        `  followed       ${followed} entries ${(followMs / 1000).toFixed(2)} s  ${rate(bytes, followMs)}`,
    );
  } finally {
    await t.stop();
  }
}

const work = await mkdtemp(join(tmpdir(), 'dstack-bench-storage-'));
try {
  const folder = join(work, 'folder');
  const bytes = await makeFolder(folder);
  const local = await startTestServer();
  await artifacts('local disk', local, folder, bytes, work).finally(() => local.stop());
  const moto = await startMoto();
  try {
    const { bucket } = await createBucket(moto);
    const s3 = await startTestServer({ storage: `s3://${bucket}/bench`, s3: moto.settings });
    await artifacts('S3 (moto_server)', s3, folder, bytes, work).finally(() => s3.stop());
  } finally {
    await moto.stop();
  }
  await logs('mixed lines of ~250 bytes (test/e2e/fixtures/storage/spew.py, sleeps ~2 s)', [
    join(REPO, 'test/e2e/fixtures/storage/spew.py'),
  ]);
  await logs('short lines of ~78 bytes', ['-c', SHORT_LINES]);
} finally {
  await rm(work, { recursive: true, force: true });
}
