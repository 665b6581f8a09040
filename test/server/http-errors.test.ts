/**
 * How errors become responses: an outage of a service the server uses is a 503 saying so, and
 * a full disk a 507 saying so, not a bug's 500.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import SqliteDatabase from 'better-sqlite3';
import { Hono } from 'hono';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../src/server/api/http-errors.js';
import { createLogger } from '../../src/logger.js';
import { S3BlobStore } from '../../src/server/storage/s3-blob-store.js';
import { createS3Client } from '../../src/server/storage/s3-client.js';
import { useTestCredentials } from '../services/s3.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const FULL = (why: string) => ({
  error: {
    code: 'storage_full',
    message: `the server's storage is full (${why}): free space on it, or give it more, and run again`,
  },
});

/** A real write to a full device: /dev/full answers every write with ENOSPC. */
function writeToFullDisk(): Promise<void> {
  return writeFile('/dev/full', 'a log line\n');
}

function appThrowing(failure: () => Promise<unknown>) {
  const logged: string[] = [];
  const app = new Hono();
  app.onError((error, c) =>
    errorResponse(
      c,
      error,
      createLogger('test', 'info', (line) => logged.push(line)),
    ),
  );
  app.get('/x', async () => {
    await failure();
    return new Response('never');
  });
  return { app, logged };
}

describe('errorResponse', () => {
  it('answers a connection refused deep in the causes (fetch, pg, the S3 client) with 503, logged as a warning', async () => {
    // A real refused connection: to a port that was just given back.
    const port = await closedPort();
    const { app, logged } = appThrowing(() => fetch(`http://127.0.0.1:${port}/`));
    const r = await app.request('/x');
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({
      error: {
        code: 'unavailable',
        message:
          `a service this server uses is unreachable (connect ECONNREFUSED 127.0.0.1:${port}): its database or its ` +
          'artifact storage; try again once it is back',
      },
    });
    expect(logged.join('\n')).toContain(`unreachable (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  it('answers a storage service that stopped answering with 503, once its requests time out', async () => {
    // A real silent service: it accepts connections and never answers (a hung server, packets dropped).
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    useTestCredentials();
    const s3 = createS3Client({ endpoint, region: 'us-east-1', idleTimeoutMs: 200 });
    const outages: string[] = [];
    const store = new S3BlobStore(
      s3,
      { bucket: 'team', prefix: '' },
      { endpoint, onOutage: (message) => outages.push(message) },
    );
    try {
      const { app } = appThrowing(() => store.missing(['ab'.repeat(32)]));
      const r = await app.request('/x');
      expect(r.status).toBe(503);
      const { error } = (await r.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('unavailable');
      // The storage's outage names the bucket and its endpoint (s3-outage.ts).
      expect(error.message).toMatch(
        new RegExp(
          `^the artifact storage is unavailable: S3 bucket 'team' at ${endpoint} went silent \\(.*the request socket timed out after 200 ms of inactivity.*\\) \\(3 tries\\)$`,
        ),
      );
      expect(outages).toEqual([error.message]);
    } finally {
      s3.destroy();
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('answers a full disk, deep in the causes, with 507 saying so, logged as one warning without a stack', async () => {
    const { app, logged } = appThrowing(async () => {
      try {
        await writeToFullDisk();
      } catch (e) {
        throw new Error('could not append the log lines', { cause: e });
      }
    });
    const r = await app.request('/x');
    expect(r.status).toBe(507);
    expect(await r.json()).toEqual(FULL('no space left on device'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/WARN .*the server's storage is full: ENOSPC: no space left on device, write$/);
  });

  it("answers SQLite's full database with 507", async () => {
    // A real SQLITE_FULL: a database that may not grow by a page.
    const db = new SqliteDatabase(':memory:');
    db.exec('CREATE TABLE t (data BLOB)');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const { app } = appThrowing(async () => db.prepare('INSERT INTO t VALUES (zeroblob(100000))').run());
    const r = await app.request('/x');
    expect(r.status).toBe(507);
    expect(await r.json()).toEqual(FULL('database or disk is full'));
    db.close();
  });

  it("answers a disk quota and PostgreSQL's full disk with 507 alike", async () => {
    const quota = Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT', syscall: 'write' });
    const postgres = Object.assign(new pg.DatabaseError('could not extend file "base/5/16384"', 0, 'error'), {
      code: '53100',
    });
    for (const [error, why] of [
      [quota, 'disk quota exceeded'],
      [postgres, "no space left on the database's disk"],
    ] as const) {
      const r = await appThrowing(() => Promise.reject(error)).app.request('/x');
      expect(r.status).toBe(507);
      expect(await r.json()).toEqual(FULL(why));
    }
  });

  it('answers PostgreSQL starting up, shutting down or cutting the connection with 503, not a 500', async () => {
    const pgError = (message: string, code: string) =>
      Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });
    for (const error of [
      pgError('the database system is starting up', '57P03'),
      pgError('terminating connection due to administrator command', '57P01'),
      pgError('sorry, too many clients already', '53300'),
      new Error('Connection terminated unexpectedly'),
    ]) {
      const { app, logged } = appThrowing(() => Promise.reject(error));
      const r = await app.request('/x');
      expect(r.status, error.message).toBe(503);
      expect(await r.json()).toEqual({
        error: {
          code: 'unavailable',
          message: `a service this server uses is unreachable (${error.message}): its database or its artifact storage; try again once it is back`,
        },
      });
      expect(logged.join('\n')).not.toContain('unexpected error');
    }
  });

  it('keeps any other unexpected error a 500 that points at the log, with its stack there', async () => {
    const { app, logged } = appThrowing(async () => {
      throw new TypeError('x is not a function');
    });
    const r = await app.request('/x');
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({
      error: { code: 'internal', message: 'internal server error; see the server log' },
    });
    expect(logged.join('\n')).toContain('TypeError: x is not a function');
  });
});
