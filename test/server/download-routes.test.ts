/**
 * `GET /api/jobs/:id/log` and `GET /api/jobs/:id/artifacts/archive` on the real app over a real
 * SQLite store, log store and blob store: the whole log as `dstack logs JOB` prints it, the
 * artifacts as a tar that `tar` reads back with their paths, modes and links, and every refusal
 * (another user's job, a run's name, nothing saved, a link leading out, a lost blob) in words.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutputEntry } from '../../src/core/log-batch.js';
import type { ManifestEntry } from '../../src/core/records.js';
import { issueToken } from '../../src/server/auth.js';
import { archivePlan, artifactTar } from '../../src/server/api/artifact-tar.js';
import type { Engine } from '../../src/server/engine.js';
import { makeJob, makeRun } from '../store/fixtures.js';
import { testApp, type TestApp } from './app-fixture.js';

const exec = promisify(execFile);
const JOB = 'aaaaaaaaaaaa';
const EMPTY = 'bbbbbbbbbbbb';
const CACHED = 'cccccccccccc';
const BAD_LINK = 'dddddddddddd';
const LOST = 'eeeeeeeeeeee';

const out = (seq: number, text: string, extra: Partial<OutputEntry> = {}): OutputEntry => ({
  seq,
  ts: 1_700_000_000_000 + seq,
  stream: 'stdout',
  bytes: Buffer.from(text),
  ...extra,
});

describe('whole downloads of a job', () => {
  let app: TestApp;
  let engine: Engine;
  let ada: string;
  let bob: string;
  let dir: string;
  const get = (token: string, path: string) => app.request(path, { headers: { authorization: `Bearer ${token}` } });
  const errorOf = async (response: Response) =>
    ((await response.json()) as { error: { message: string } }).error.message;
  const stored = async (content: string | Buffer) => {
    const bytes = Buffer.from(content);
    const digest = createHash('sha256').update(bytes).digest('hex');
    await engine.blobs.put(digest, Readable.from([bytes]));
    return { digest, size: bytes.length };
  };

  beforeAll(async () => {
    const fixture = await testApp('downloads');
    ({ app, engine, dir } = fixture);
    const { store } = fixture;
    [ada, bob] = await Promise.all([issueToken(store, 'user', 'ada', false), issueToken(store, 'user', 'bob', false)]);
    const run = makeRun('long-log-1');
    await store.createRun(
      run,
      [JOB, EMPTY, BAD_LINK, LOST].map((id, i) => makeJob(run, ['train', 'empty', 'links', 'lost'][i]!, { id })),
      'test',
    );
    const cachedRun = makeRun('cached-run-1');
    await store.createRun(
      cachedRun,
      [makeJob(cachedRun, 'train', { id: CACHED, status: 'DONE', cachedFrom: JOB })],
      'test',
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  describe('the log', () => {
    beforeAll(async () => {
      await engine.logs.append(JOB, [
        out(1, 'epoch 1\nepoch 2'),
        out(2, 'warning: slow', { stream: 'stderr' }),
        out(3, 'Downloading ', { partial: true }),
        out(4, '50%', { stream: 'stderr' }), // the other stream cuts the unfinished line
        out(5, '\r100%', { partial: true }),
        out(6, ' done'),
        out(7, '\xff raw', { raw: true }),
        out(8, 'no newline at the end', { partial: true }),
      ]);
    });

    it('is the text dstack logs prints, saved as a file named after the run, workflow and job', async () => {
      const response = await get(ada, `/api/jobs/${JOB}/log`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="long-log-1-train-${JOB}.log"`);
      expect(await response.text()).toBe(
        'epoch 1\nepoch 2\nwarning: slow\nDownloading \n50%\n\r100% done\n\xff raw\nno newline at the end\n',
      );
    });

    it('of a cached job is the log of the job it reuses, as the log view shows it', async () => {
      const response = await get(ada, `/api/jobs/${CACHED}/log`);
      expect(await response.text()).toContain('epoch 1\nepoch 2\n');
    });

    it('of a job that wrote nothing is an empty file', async () => {
      const response = await get(ada, `/api/jobs/${EMPTY}/log`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('');
    });

    it("is refused for another user's job as for one that does not exist, and for a run's name", async () => {
      const theirs = await get(bob, `/api/jobs/${JOB}/log`);
      expect(theirs.status).toBe(404);
      expect(await errorOf(theirs)).toBe(`no run or job named '${JOB}' (see 'dstack status --last 10')`);
      const run = await get(ada, '/api/jobs/long-log-1/log');
      expect(run.status).toBe(404);
      expect(await errorOf(run)).toBe(
        "'long-log-1' is a run, not a job: name one of its jobs ('dstack status long-log-1' lists them)",
      );
      const none = await app.request(`/api/jobs/${JOB}/log`);
      expect(none.status).toBe(401);
    });

    it('streams a long log a chunk at a time: the first chunk comes before the rest is read', async () => {
      const id = 'ffffffffffff';
      const run = makeRun('huge-log-1');
      await engine.store.createRun(run, [makeJob(run, 'train', { id })], 'test');
      const line = 'x'.repeat(1000);
      for (let seq = 1; seq <= 2000; seq += 100)
        await engine.logs.append(
          id,
          Array.from({ length: 100 }, (_, i) => out(seq + i, line)),
        );
      const response = await get(ada, `/api/jobs/${id}/log`);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(first.value!.length).toBeGreaterThanOrEqual(64 << 10);
      expect(first.value!.length).toBeLessThan(2000 * 1001); // not the whole log at once
      let bytes = first.value!.length;
      for (let next = await reader.read(); !next.done; next = await reader.read()) bytes += next.value.length;
      expect(bytes).toBe(2000 * 1001);
    });
  });

  describe('the artifacts', () => {
    let work: string;
    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'dstack-archive-'));
      const weights = await stored(Buffer.alloc(3 << 20, 7)); // bigger than a small blob: streamed
      const config = await stored('lr: 0.1\n');
      const deep = await stored('deep\n');
      const longPath = `checkpoint/${'very-long-folder-name/'.repeat(8)}notes.txt`;
      const files: ManifestEntry[] = [
        { path: 'checkpoint/weights.bin', mode: 0o600, ...weights },
        { path: 'checkpoint/run.sh', mode: 0o755, ...config },
        { path: longPath, mode: 0o644, ...deep },
        { path: 'checkpoint/latest', size: 0, mode: 0o777, link: 'weights.bin' },
        { path: 'checkpoint/empty', size: 0, mode: 0o755, folder: true },
      ];
      await engine.store.setArtifacts(JOB, { artifacts: [{ path: 'checkpoint', files }] });
      await engine.store.setArtifacts(BAD_LINK, {
        artifacts: [
          { path: 'out', files: [{ path: 'out/passwd', size: 0, mode: 0o777, link: '../../../etc/passwd' }] },
        ],
      });
      const gone = createHash('sha256').update('never stored').digest('hex');
      await engine.store.setArtifacts(LOST, {
        artifacts: [{ path: 'out', files: [{ path: 'out/model.pt', size: 12, mode: 0o644, digest: gone }] }],
      });
    });
    afterAll(() => rm(work, { recursive: true, force: true }));

    it('are one tar with every file at its path, its mode, empty folders and links, as dstack artifacts -o writes them', async () => {
      const response = await get(ada, `/api/jobs/${JOB}/artifacts/archive`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-tar');
      expect(response.headers.get('content-disposition')).toBe(
        `attachment; filename="long-log-1-train-${JOB}-artifacts.tar"`,
      );
      await writeFile(join(work, 'a.tar'), Buffer.from(await response.arrayBuffer()));
      await exec('tar', ['-xf', 'a.tar'], { cwd: work });
      // Compared as bytes: vitest's toEqual walks a 3 MB buffer element by element (seconds).
      expect((await readFile(join(work, 'checkpoint/weights.bin'))).equals(Buffer.alloc(3 << 20, 7))).toBe(true);
      expect(await readFile(join(work, 'checkpoint/run.sh'), 'utf8')).toBe('lr: 0.1\n');
      expect((await lstat(join(work, 'checkpoint/run.sh'))).mode & 0o777).toBe(0o755);
      const longPath = `checkpoint/${'very-long-folder-name/'.repeat(8)}notes.txt`;
      expect(await readFile(join(work, longPath), 'utf8')).toBe('deep\n');
      expect(await readlink(join(work, 'checkpoint/latest'))).toBe('weights.bin');
      expect((await lstat(join(work, 'checkpoint/empty'))).isDirectory()).toBe(true);
    });

    it('of a cached job are those of the job it reuses', async () => {
      const response = await get(ada, `/api/jobs/${CACHED}/artifacts/archive`);
      expect(response.status).toBe(200);
      await writeFile(join(work, 'cached.tar'), Buffer.from(await response.arrayBuffer()));
      const { stdout } = await exec('tar', ['-tf', 'cached.tar'], { cwd: work });
      expect(stdout.split('\n')).toEqual(expect.arrayContaining(['checkpoint/weights.bin', 'checkpoint/latest']));
    });

    it('are cut off, never sent short, when a stored file is not the size its manifest says', async () => {
      const { digest } = await stored('four');
      const plan = archivePlan({
        artifacts: [{ path: 'out', files: [{ path: 'out/model.pt', size: 10, mode: 0o644, digest }] }],
      });
      const read = async () => {
        for await (const chunk of artifactTar(engine.blobs, plan, new Date(0))) void chunk;
      };
      await expect(read()).rejects.toThrow(
        "stored content of 'out/model.pt' is not the 10 bytes its manifest says (read 4 so far): the archive is cut off here",
      );
    });

    it('are refused, saying why, when there are none, a link leads out, or a file is no longer stored', async () => {
      const empty = await get(ada, `/api/jobs/${EMPTY}/artifacts/archive`);
      expect(empty.status).toBe(404);
      expect(await errorOf(empty)).toBe(`job ${EMPTY} has no artifacts to download (it is SUBMITTED)`);

      const link = await get(ada, `/api/jobs/${BAD_LINK}/artifacts/archive`);
      expect(link.status).toBe(400);
      expect(await errorOf(link)).toBe(
        "the artifacts of this job hold a symlink that leads out of its artifact ('out/passwd' -> '../../../etc/passwd'), " +
          'so they are not archived; dstack artifacts JOB -o DIR refuses it too',
      );

      const lost = await get(ada, `/api/jobs/${LOST}/artifacts/archive`);
      expect(lost.status).toBe(503);
      expect(await errorOf(lost)).toBe(
        `1 of job ${LOST}'s artifact files is not in the server's storage (the first: 'out/model.pt'): ` +
          "the server's blob store has lost it; run the workflow again to make them anew",
      );

      const theirs = await get(bob, `/api/jobs/${JOB}/artifacts/archive`);
      expect(theirs.status).toBe(404);
      expect(await errorOf(theirs)).toBe(`no run or job named '${JOB}' (see 'dstack status --last 10')`);
    });
  });
});
