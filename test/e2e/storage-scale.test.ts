/**
 * Storage at scale, through the real CLI and runner against an in-process server whose
 * stores the test reads: a 200 MB artifact folder re-saved after one 1 MB file changed
 * sends about 1 MB, and a 100 MB log (progress bars, binary bytes, a line that waits for
 * its newline) reads back byte for byte, by pages and followed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { REPO } from './harness.js';
import { RemoteProject } from './remote.js';

const FIXTURES = join(REPO, 'test/e2e/fixtures/storage');

const WORKFLOWS = `workflows:
  - name: gen
    commands:
      - python3 gen.py $v
    artifacts: [ckpt]
  - name: spew
    commands:
      - python3 spew.py
`;

describe('storage at scale', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-scale-'));
    t = await startTestServer({ localRunner: { workRoot: join(work, 'runner'), stopGraceMs: 1000 } });
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    await project.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  gen:\n    v: 1\n',
    });
    await cp(join(FIXTURES, 'gen.py'), join(project.root, 'gen.py'));
    await cp(join(FIXTURES, 'spew.py'), join(project.root, 'spew.py'));
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  async function lastRun(): Promise<RunView> {
    return (JSON.parse((await project.dstack(['status', '--json'])).stdout) as RunView[])[0]!;
  }

  it('re-saving a 200 MB artifact folder with one changed 1 MB file stores about 1 MB', async () => {
    const first = await project.dstack(['run', 'gen']);
    expect(first.code).toBe(0);
    const stored = t.server.engine.blobs.stats();
    expect(stored.bytesWritten).toBeGreaterThanOrEqual(200_000_000);

    const second = await project.dstack(['run', 'gen', '--v', '2']);
    expect(second.code).toBe(0);
    const after = t.server.engine.blobs.stats();
    expect(after.bytesWritten - stored.bytesWritten).toBe(1_000_000);
    expect(after.blobsWritten - stored.blobsWritten).toBe(1);

    const run = await lastRun();
    const listed = await project.dstack(['artifacts', run.jobs[0]!.id, '--total']);
    expect(listed.stdout).toMatch(/ckpt\s+200\s+200MB/);
  }, 300_000);

  it('a 100 MB log with progress bars, binary output and a waiting line reads back byte for byte', async () => {
    const expected = await new Promise<{ sha256: string; length: number }>((resolve, reject) => {
      const child = spawn('python3', [join(FIXTURES, 'spew.py')], { stdio: ['ignore', 'pipe', 'inherit'] });
      const hash = createHash('sha256');
      let length = 0;
      child.stdout.on('data', (c: Buffer) => {
        hash.update(c);
        length += c.length;
      });
      child.on('error', reject);
      child.on('close', () => resolve({ sha256: hash.digest('hex'), length }));
    });
    expect(expected.length).toBeGreaterThan(100_000_000);
    const r = await project.dstack(['run', 'spew', '-d']);
    expect(r.code).toBe(0);
    const runName = r.stdout.trim();
    // Followed live, from the start, while the job is still printing.
    const followed = await project.dstackHashed(['logs', runName, '-f']);
    expect(followed.code).toBe(0);
    expect({ sha256: followed.sha256, length: followed.length }).toEqual(expected);
    // Read back by pages once it is done.
    const paged = await project.dstackHashed(['logs', runName]);
    expect({ sha256: paged.sha256, length: paged.length }).toEqual(expected);
    // The line that waited went out as a partial entry, before its newline came.
    const job = (await lastRun()).jobs[0]!;
    const waiting = [];
    for await (const e of t.server.engine.logs.entries(job.id)) {
      const text = e.bytes.toString();
      if (text.startsWith('waiting for')) waiting.push({ text, partial: e.partial });
    }
    expect(waiting).toMatchObject([{ text: 'waiting for the data loader...', partial: true }]);
  }, 300_000);
});
