/**
 * Finished jobs' logs archived in the blob store (storage/log-archive.ts), over a real SQLite
 * store, a real local blob store and log stores on disk: a second log store on an empty folder
 * (a server on a new data folder) reads them back whole, late lines archive a log again, a
 * log the previous process did not archive is archived at the next start, and prune keeps
 * exactly the archived logs of the runs it keeps.
 */
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutputEntry } from '../../src/core/log-batch.js';
import { blobPath } from '../../src/files/blob-path.js';
import { silentLogger } from '../../src/logger.js';
import { Engine } from '../../src/server/engine.js';
import { prune } from '../../src/server/prune.js';
import { LocalBlobStore } from '../../src/server/storage/local-blob-store.js';
import { LogArchive } from '../../src/server/storage/log-archive.js';
import { LogStore } from '../../src/server/storage/log-store.js';
import { openSqliteStore } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store.js';
import { makeJob, makeRun, makeSpec } from '../store/fixtures.js';
import { finish } from './engine-fixture.js';

const entries = (from: number, count: number, start = 1_700_000_000_000): OutputEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    seq: from + i,
    ts: start + (from + i) * 1000,
    stream: i % 7 === 0 ? 'stderr' : 'stdout',
    bytes: Buffer.from(`line ${from + i} ${'x'.repeat(i % 50)}\n`),
  }));

const all = async (logs: LogStore, jobId: string, since?: number) => {
  const read: OutputEntry[] = [];
  for await (const e of logs.entries(jobId, since === undefined ? {} : { since })) read.push(e);
  return read.map((e) => `${e.seq} ${e.ts} ${e.stream} ${e.bytes.toString()}`);
};

describe('logs archived in the storage', () => {
  let dir: string;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A server process: the shared database and storage, its own logs folder. */
  const serverOn = (logsDir: string) => {
    const blobs = new LocalBlobStore(join(dir, 'storage'));
    const archive = new LogArchive(store!, blobs, silentLogger);
    const logs = new LogStore(join(dir, logsDir), archive);
    const engine = new Engine({ store: store!, blobs, logs, logger: silentLogger });
    archive.start(logs, engine.events);
    return { engine, logs, archive };
  };

  const submit = async (...ids: string[]) => {
    const run = makeRun('calm-owl-1', { user: 'u', codeDigest: 'c'.repeat(64), repo: { root: '/' } });
    const jobs = ids.map((id, i) => makeJob(run, `w${i}`, { id, spec: makeSpec(`w${i}`), cacheKey: id }));
    await store!.createRun(run, jobs, 'test');
    return run;
  };

  const open = async () => {
    dir = await mkdtemp(join(tmpdir(), 'dstack-log-archive-'));
    store = await openSqliteStore(join(dir, 'dstack.db'));
  };

  it('reads a finished log back whole from a new logs folder, --since included', async () => {
    await open();
    await submit('aaaaaaaaaaa1');
    const first = serverOn('logs-1');
    await first.engine.logs.append('aaaaaaaaaaa1', entries(1, 2500));
    await finish(first.engine, 'aaaaaaaaaaa1');
    await first.archive.close(); // the server stops: what is due is archived first
    const written = await all(first.logs, 'aaaaaaaaaaa1');

    const second = serverOn('logs-2');
    expect(await all(second.logs, 'aaaaaaaaaaa1')).toEqual(written);
    const since = 1_700_000_000_000 + 2000 * 1000;
    expect(await all(second.logs, 'aaaaaaaaaaa1', since)).toEqual(written.slice(1999));
    expect(await second.logs.lastSequence('aaaaaaaaaaa1')).toBe(2500);
    await second.archive.close();
  });

  it("archives a log again when a lost runner's lines come after its end", async () => {
    await open();
    await submit('aaaaaaaaaaa1');
    const first = serverOn('logs-1');
    await first.logs.append('aaaaaaaaaaa1', entries(1, 10));
    await finish(first.engine, 'aaaaaaaaaaa1');
    await first.archive.archive('aaaaaaaaaaa1');
    expect(await store!.getLogArchive('aaaaaaaaaaa1')).toMatchObject({ lastSeq: 10 });
    await first.logs.append('aaaaaaaaaaa1', entries(11, 5));
    first.archive.lateLines('aaaaaaaaaaa1');
    await first.archive.close();
    expect(await store!.getLogArchive('aaaaaaaaaaa1')).toMatchObject({ lastSeq: 15 });
    expect(await all(serverOn('logs-2').logs, 'aaaaaaaaaaa1')).toHaveLength(15);
  });

  it('archives late lines that came while the storage was down, retried, or at the next start', async () => {
    await open();
    await submit('aaaaaaaaaaa1');
    let down = false;
    // The storage failing its writes (an S3 outage), below the blob store's port.
    class FlakyStorage extends LocalBlobStore {
      override put(digest: string, content: Readable): Promise<void> {
        if (down) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9000'));
        return super.put(digest, content);
      }
    }
    const blobs = new FlakyStorage(join(dir, 'storage'));
    const archive = new LogArchive(store!, blobs, silentLogger);
    const logs = new LogStore(join(dir, 'logs-1'), archive);
    const engine = new Engine({ store: store!, blobs, logs, logger: silentLogger });
    archive.start(logs, engine.events);
    await logs.append('aaaaaaaaaaa1', entries(1, 10));
    await finish(engine, 'aaaaaaaaaaa1');
    await archive.archive('aaaaaaaaaaa1');
    down = true;
    await logs.append('aaaaaaaaaaa1', entries(11, 5));
    archive.lateLines('aaaaaaaaaaa1');
    await archive.close(); // its try fails: the storage is down
    expect(await store!.getLogArchive('aaaaaaaaaaa1')).toMatchObject({ lastSeq: -1 });
    expect(await store!.unarchivedLogs()).toEqual(['aaaaaaaaaaa1']);

    down = false;
    const next = serverOn('logs-1'); // the next start, on the same disk, the storage back
    await next.archive.close();
    expect(await store!.getLogArchive('aaaaaaaaaaa1')).toMatchObject({ lastSeq: 15 });
    expect(await all(serverOn('logs-2').logs, 'aaaaaaaaaaa1')).toHaveLength(15);
  });

  it('archives at its start the logs the last process ended without archiving, an empty one as empty', async () => {
    await open();
    await submit('aaaaaaaaaaa1', 'aaaaaaaaaaa2');
    // A process without an archive (it died before its timer): two jobs end, one with lines.
    const logs = new LogStore(join(dir, 'logs-1'));
    const engine = new Engine({
      store: store!,
      blobs: new LocalBlobStore(join(dir, 'storage')),
      logs,
      logger: silentLogger,
    });
    await logs.append('aaaaaaaaaaa1', entries(1, 3));
    await finish(engine, 'aaaaaaaaaaa1');
    await finish(engine, 'aaaaaaaaaaa2');
    expect((await store!.unarchivedLogs()).sort()).toEqual(['aaaaaaaaaaa1', 'aaaaaaaaaaa2']);

    const next = serverOn('logs-1');
    await next.archive.close();
    expect(await store!.unarchivedLogs()).toEqual([]);
    expect(await store!.getLogArchive('aaaaaaaaaaa2')).toMatchObject({ bytes: 0, lastSeq: 0 });
    expect(await all(serverOn('logs-3').logs, 'aaaaaaaaaaa1')).toHaveLength(3);
    expect(await all(serverOn('logs-4').logs, 'aaaaaaaaaaa2')).toEqual([]);
  });

  it("asks the store nothing when a job taken for the first time opens its log; a resumed one's is looked up", async () => {
    await open();
    await submit('aaaaaaaaaaa1');
    const { engine, logs } = serverOn('logs-1');
    const lookups = vi.spyOn(store!, 'getLogArchive');
    await engine.transition('aaaaaaaaaaa1', 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    expect(await logs.lastSequence('aaaaaaaaaaa1')).toBe(0); // the scheduler's look as it assigns the job
    await logs.append('aaaaaaaaaaa1', entries(1, 3));
    expect(lookups).not.toHaveBeenCalled();

    // Stopped and resumed on a server with a new logs folder: its log comes back from the archive.
    await engine.transition('aaaaaaaaaaa1', 'DOWNLOADING', 'STOPPED', {}, 'test');
    const first = serverOn('logs-1');
    await first.archive.archive('aaaaaaaaaaa1');
    const next = serverOn('logs-2');
    await next.engine.transition('aaaaaaaaaaa1', 'STOPPED', 'SUBMITTED', { resumed: true }, 'test');
    await next.engine.transition('aaaaaaaaaaa1', 'SUBMITTED', 'DOWNLOADING', { runner: 'r1' }, 'test');
    expect(await next.logs.lastSequence('aaaaaaaaaaa1')).toBe(3);
    expect(lookups).toHaveBeenCalled();
    vi.restoreAllMocks();
  });

  it('says which blob is missing when the storage lost an archived log', async () => {
    await open();
    await submit('aaaaaaaaaaa1');
    const first = serverOn('logs-1');
    await first.logs.append('aaaaaaaaaaa1', entries(1, 3));
    await finish(first.engine, 'aaaaaaaaaaa1');
    await first.archive.close();
    const { digest } = (await store!.getLogArchive('aaaaaaaaaaa1'))!;
    await new LocalBlobStore(join(dir, 'storage')).delete(digest);
    await expect(all(serverOn('logs-2').logs, 'aaaaaaaaaaa1')).rejects.toThrow(
      `the log of job aaaaaaaaaaa1 is archived in the server's storage as blob ${digest}, which is no longer there`,
    );
  });

  it("prune deletes a pruned run's archived log and keeps a kept run's", async () => {
    await open();
    const doomed = await submit('aaaaaaaaaaa1');
    const server = serverOn('logs-1');
    await server.logs.append('aaaaaaaaaaa1', entries(1, 3));
    await finish(server.engine, 'aaaaaaaaaaa1');
    const kept = makeRun('calm-owl-2', { user: 'u', codeDigest: 'c'.repeat(64), repo: { root: '/' } });
    await store!.createRun(
      kept,
      [makeJob(kept, 'w0', { id: 'aaaaaaaaaaa2', spec: makeSpec('w0'), cacheKey: 'k' })],
      't',
    );
    await server.logs.append('aaaaaaaaaaa2', entries(1, 4));
    await finish(server.engine, 'aaaaaaaaaaa2');
    await store!.setTag(kept.name, 'best');
    await server.archive.close();
    const digests = await store!.allLogArchives();
    const old = new Date(Date.now() - 2 * 3600_000); // past the hour in which blobs are never deleted
    for (const { digest } of digests) await utimes(blobPath(join(dir, 'storage'), digest), old, old);

    const result = await prune(server.engine, 0);
    expect(result).toMatchObject({ runs: [doomed.name], blobs: 1 });
    const left = digests.find((d) => d.jobId === 'aaaaaaaaaaa2')!.digest;
    const gone = digests.find((d) => d.jobId === 'aaaaaaaaaaa1')!.digest;
    expect(await server.engine.blobs.size(left)).toBeGreaterThan(0);
    expect(await server.engine.blobs.size(gone)).toBeUndefined();
    expect(await store!.allLogArchives()).toEqual([{ jobId: 'aaaaaaaaaaa2', digest: left }]);
  });
});
