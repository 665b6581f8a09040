/**
 * Saving artifacts with the runner inside the server process (an in-process server with
 * its local runner, whose stores the test reads): its files go straight into the store on
 * local disk, and a re-save still stores a blob that was deleted since it was first saved.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { RemoteProject } from './remote.js';

const LONG_AGO = new Date('2020-01-01T00:00:00Z');
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('artifacts saved by the embedded runner', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-resave-'));
    t = await startTestServer({ localRunner: { workRoot: join(work, 'runner'), stopGraceMs: 1000 } });
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    // Written long ago and hard-linked into the job (as the benchmark does): unchanged files keep their digests.
    const src = join(work, 'src');
    await mkdir(src);
    for (let i = 0; i < 40; i++) files.set(`f${i}`, randomBytes(1000 + i * 100));
    for (const [name, data] of files) {
      await writeFile(join(src, name), data);
      await utimes(join(src, name), LONG_AGO, LONG_AGO);
    }
    await project.write({
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: save',
        `    commands: ["cp -al '${src}' data"]`,
        '    artifacts: [data]',
        '  - name: big',
        '    commands: ["mkdir out && head -c 3000000 /dev/urandom > out/big.bin && echo small > out/small.txt"]',
        '    artifacts: [out]',
        '  - name: plain',
        '    commands: ["echo no artifacts"]',
        '  - name: use',
        '    depends-on: [big]',
        '    commands: ["sha256sum out/big.bin out/small.txt"]',
        '',
      ].join('\n'),
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  const lastJob = async () =>
    (JSON.parse((await project.dstack(['status', '--json'])).stdout) as RunView[])[0]!.jobs[0]!.id;
  const blobPath = (digest: string) => join(t.dataDir, 'artifacts', digest.slice(0, 2), digest);

  it('stores the files straight into the store on local disk, not as packs through its routes', async () => {
    const before = t.server.engine.blobs.stats();
    expect((await project.dstack(['run', 'save'])).code).toBe(0);
    const after = t.server.engine.blobs.stats();
    // The 40 files and the code snapshot's 2 blobs (over HTTP from the CLI); no pack entry the runner hashed.
    expect(after.blobsWritten - before.blobsWritten).toBe(42);
    expect(after.blobsHashedHere - before.blobsHashedHere).toBe(0);
    for (const data of files.values()) expect((await readFile(blobPath(sha(data)))).equals(data)).toBe(true);
  }, 120_000);

  it('a re-save stores again a blob deleted since, and the artifacts restore whole', async () => {
    const lost = sha(files.get('f3')!);
    await rm(blobPath(lost));
    const before = t.server.engine.blobs.stats();
    const again = await project.dstack(['run', 'save', '--no-cache']);
    expect(again.code, again.stderr).toBe(0);
    expect(t.server.engine.blobs.stats().blobsWritten - before.blobsWritten).toBe(1);
    expect((await stat(blobPath(lost))).size).toBe(files.get('f3')!.length);
    // The runner had remembered the blob as stored and asked nothing; the server's check of the manifest caught it.
    const job = await lastJob();
    const notes = [];
    for await (const e of t.server.engine.logs.entries(job)) notes.push(e.bytes.toString());
    expect(notes.join('\n')).toMatch(/deleted from the server since this runner stored them; sent again/);

    const out = join(work, 'restored');
    expect((await project.dstack(['artifacts', job, '-o', out])).code).toBe(0);
    for (const [name, data] of files) expect(sha(await readFile(join(out, 'data', name)))).toBe(sha(data));
  }, 120_000);

  it("gives a job its dependency's big artifact by copying it from the store, not reading it through the API", async () => {
    expect((await project.dstack(['run', 'big'])).code).toBe(0);
    const bigJob = await lastJob();
    const manifest = (await t.server.engine.store.getArtifacts(bigJob))!;
    const big = manifest.artifacts[0]!.files.find((f) => f.path === 'out/big.bin')!;
    const small = manifest.artifacts[0]!.files.find((f) => f.path === 'out/small.txt')!;
    const before = t.server.engine.blobs.stats();
    const used = await project.dstack(['run', 'use']);
    expect(used.code, used.stderr).toBe(0);
    expect(used.stdout).toContain(`${big.digest}  out/big.bin`);
    expect(used.stdout).toContain(`${small.digest}  out/small.txt`);
    // The small file came through a pack (the runner keeps small blobs in memory), the big one was not read by the server.
    const after = t.server.engine.blobs.stats();
    expect(after.bytesRead - before.bytesRead).toBeLessThan(big.size);
  }, 120_000);

  it('stores no manifest for a job that declares no artifacts, and a later run still reuses it', async () => {
    expect((await project.dstack(['run', 'plain'])).code).toBe(0);
    const job = await lastJob();
    expect(await t.server.engine.store.getArtifacts(job)).toBeUndefined();
    expect((await project.dstack(['artifacts', job])).stdout).toContain(`job ${job} has no artifacts`);
    const again = await project.dstack(['run', 'plain']);
    expect(again.stderr).toContain(`plain: cached, reusing job ${job}`);
  }, 120_000);
});
