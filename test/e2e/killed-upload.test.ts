/**
 * A runner killed while it uploads a job's artifacts: the server keeps no manifest for the
 * job, every blob it does hold is whole and verified, nothing half-written is left, and the
 * runner started again on its work dir uploads what is missing: the job ends as its commands did
 * (DONE, or FAILED with their exit code), its artifacts intact.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { BIN, waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';

// 16 files of 4 MB (each a blob of its own): eight upload at once. big-crash's (other files, none
// stored yet) are followed by a failing command.
const write = (seed: number) =>
  `python3 -c "import os, random; os.makedirs('out', exist_ok=True); [open(f'out/{i:02d}.bin', 'wb').write(random.Random(${seed} + i).randbytes(4_000_000)) for i in range(16)]"`;
const WORKFLOWS = `workflows:
  - name: big
    commands:
      - ${write(0)}
    artifacts: [out]
  - name: big-crash
    commands:
      - ${write(100)}; exit 3
    artifacts: [out]
`;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('a runner killed while uploading artifacts', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  const runners: ChildProcess[] = [];

  /** Runner `name` on its own work dir (the same one each time for a name). */
  async function startRunner(name: string): Promise<ChildProcess> {
    const token = await issueToken(t.server.engine.store, 'runner', name, false);
    const child = spawn(
      BIN,
      ['runner', 'start', '--server', t.server.url, '--token', token, '--work-dir', join(work, `runner-${name}`)],
      { env: { ...process.env, DSTACK_HOME: join(work, 'home') }, stdio: 'ignore', detached: true },
    );
    runners.push(child);
    return child;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-killed-'));
    t = await startTestServer();
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    await project.write({ '.dstack/workflows.yaml': WORKFLOWS });
  });
  const killRunners = () => {
    for (const r of runners.splice(0)) {
      try {
        if (r.pid) process.kill(-r.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  afterAll(async () => {
    killRunners();
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it.each([
    ['big', 'DONE', 'exit code 0', 0, 'r1'],
    ['big-crash', 'FAILED', 'exit code 3', 3, 'r2'],
  ] as const)(
    'leaves no manifest and nothing a later run trusts; the restarted runner saves the artifacts of %s whole, %s',
    async (workflow, status, reason, exitCode, name) => {
      const runner = await startRunner(name);
      const submitted = await project.dstack(['run', workflow, '-d']);
      expect(submitted.code).toBe(0);
      const run = await t.server.engine.store.getRun(submitted.stdout.trim());
      const [job] = await t.server.engine.store.jobsOfRuns([run!.name]);
      // A slow store (each put answers 300 ms late) keeps the upload going long enough to be cut.
      const blobs = t.server.engine.blobs;
      const put = blobs.put.bind(blobs);
      blobs.put = async (digest, content) => {
        await put(digest, content);
        await new Promise((r) => setTimeout(r, 300));
      };
      const before = blobs.stats().blobsWritten;
      for (const deadline = Date.now() + 60_000; blobs.stats().blobsWritten === before;) {
        if (Date.now() > deadline) throw new Error('the upload never started');
        await new Promise((r) => setTimeout(r, 10));
      }
      expect((await t.server.engine.store.getJob(job!.id))?.status).toBe('UPLOADING');
      process.kill(-runner.pid!, 'SIGKILL');
      blobs.put = put;
      await new Promise((r) => runner.once('exit', r));

      // The server notices the cut-off requests and drops what they were writing.
      const artifactsDir = join(t.dataDir, 'artifacts');
      await waitUntil(async () => (await filesUnder(artifactsDir)).every((f) => !f.endsWith('.tmp')), 10_000);
      expect(await t.server.engine.store.getArtifacts(job!.id)).toBeUndefined();
      const stored: string[] = [];
      for await (const blob of t.server.engine.blobs.list()) {
        stored.push(blob.digest);
        expect(sha256(await buffer(await t.server.engine.blobs.get(blob.digest)))).toBe(blob.digest);
      }
      // Not every artifact file made it (the code blobs are there too; the first case's stay).
      expect(stored.length).toBeLessThan((workflow === 'big' ? 0 : 16) + 16 + 3);

      // A new runner on that work dir: the job's commands had ended (with exit code 0, or 3), so
      // it saves the artifacts again, whole, and the job ends as it would have: DONE, or FAILED.
      await startRunner(name);
      await waitUntil(async () => (await t.server.engine.store.getJob(job!.id))?.status === status, 60_000);
      const ended = await t.server.engine.store.getJob(job!.id);
      expect([ended?.reason, ended?.exitCode]).toEqual([reason, exitCode]);
      const manifest = await t.server.engine.store.getArtifacts(job!.id);
      expect(manifest?.artifacts[0]?.files).toHaveLength(16);
      const notes = (await project.dstack(['logs', job!.id])).stderr;
      expect(notes).toContain('its runner restarted while it saved its artifacts: saving them again');
      const out = join(work, `out-${workflow}`);
      expect((await project.dstack(['artifacts', job!.id, '-o', out])).code).toBe(0);
      expect((await readFile(join(out, 'out', '15.bin'))).length).toBe(4_000_000);
      killRunners();
    },
  );
});
