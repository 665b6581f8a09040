/** Retrying through dropped connections, against a real HTTP server that drops some. */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { RunnerClient } from '../../src/client/runner-client.js';
import { RUNNER_OUTAGE_MS, isTransient, retrying, runnerRetry } from '../../src/client/retry.js';
import { InvalidError, NotFoundError, StorageFullError, UnavailableError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/logger.js';
import { directPut } from '../../src/files/direct-http.js';
import { errorResponse } from '../../src/server/api/http-errors.js';

let server: Server | undefined;
afterEach(() => server?.close());

/** A server whose first `drops` requests (or those `drops` picks by number) lose their connection before any answer. */
async function dropping(
  drops: number | ((request: number) => boolean),
): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  server = createServer((req, res) => {
    requests++;
    if (typeof drops === 'number' ? requests <= drops : drops(requests)) return req.socket.destroy();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, caller: 'r1', version: 'x' }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

/** A dstack API whose first `fails` requests fail on a full disk (a real ENOSPC), and later ones answer `{ ok: true }`. */
async function fullFor(fails: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const app = new Hono();
  app.onError((error, c) => errorResponse(c, error, silentLogger));
  app.all('*', async (c) => {
    if (++requests <= fails) await writeFile('/dev/full', 'x');
    return c.json({ ok: true, lastSeq: 0, transition: { ok: true } });
  });
  server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

describe('a client that retries', () => {
  it('gets its answer through connections that drop, and says each time it waits', async () => {
    const { url, requests } = await dropping(2);
    const waits: number[] = [];
    const client = new Client({ url, token: 't', retry: { forMs: 10_000, onRetry: (_, ms) => waits.push(ms) } });
    expect(await client.health()).toMatchObject({ ok: true });
    expect(requests()).toBe(3);
    expect(waits).toEqual([200, 400]);
  });

  it("a runner's retries name their request: its claim, heartbeat and log sends, which fail together, read apart", async () => {
    const { url } = await dropping((n) => n % 2 === 1); // every request's first try
    const warned: string[] = [];
    const client = new RunnerClient({
      url,
      token: 't',
      retry: runnerRetry({ warn: (message) => warned.push(message) }),
    });
    await client.health();
    await client.appendLogs('0123456789ab', []);
    expect(warned).toEqual([
      'GET /api/health failed; retrying in 200 ms',
      'POST /api/runner/jobs/0123456789ab/logs failed; retrying in 200 ms',
    ]);
  });

  it('gives up when its time is spent, with the error of the last try', async () => {
    const { url } = await dropping(1000);
    const client = new Client({ url, token: 't', retry: { forMs: 500 } });
    await expect(client.health()).rejects.toThrow(/cannot reach the dstack server at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('does not retry a server whose storage is full: no retry frees it, and the job fails at once saying so', async () => {
    const { url, requests } = await fullFor(1000);
    const client = new Client({ url, token: 't', retry: { forMs: 10_000 } });
    const error = await client.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as Error).message).toBe(
      "the server's storage is full (no space left on device): free space on it, or give it more, and run again",
    );
    expect(isTransient(error)).toBe(false);
    expect(requests()).toBe(1);
  });

  it("retries a job's status report through a full storage: it is the only record of how the job ended", async () => {
    const { url, requests } = await fullFor(2);
    const client = new RunnerClient({ url, token: 't', retry: { forMs: 10_000 } });
    expect(await client.transition('j1', { from: 'RUNNING', to: 'DONE' })).toMatchObject({ ok: true });
    expect(await client.appendLogsThen('j1', [], undefined, { from: 'RUNNING', to: 'DONE' })).toEqual({ ok: true });
    expect(requests()).toBe(4);
  });

  it('fails at once without a retry policy (the CLI)', async () => {
    const { url, requests } = await dropping(1);
    await expect(new Client({ url, token: 't' }).health()).rejects.toThrow(UnavailableError);
    expect(requests()).toBe(1);
  });
});

/** A dstack API that answers `status` with `code` (a 503 `unavailable`: its database is out) until `forMs` has passed, then `{ ok: true }`. */
async function outFor(
  forMs: number,
  status = 503,
  code = 'unavailable',
): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const until = Date.now() + forMs;
  server = createServer((req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    if (Date.now() < until) {
      res.statusCode = status;
      return res.end(JSON.stringify({ error: { code, message: 'a service this server uses is unreachable' } }));
    }
    res.end(JSON.stringify({ ok: true, caller: 'r1', version: 'x', lastSeq: 0, transition: { ok: true } }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

describe("a runner's client through its server's outage", () => {
  const policy = { forMs: 300, outageForMs: 10_000 };

  it('waits out a server whose database is down past its usual retries, and gets its answer', async () => {
    const { url, requests } = await outFor(1500);
    const client = new RunnerClient({ url, token: 't', retry: policy });
    expect(await client.transition('j1', { from: 'RUNNING', to: 'UPLOADING' })).toMatchObject({ ok: true });
    expect(requests()).toBeGreaterThan(3);
  });

  it('waits out a server it cannot reach, and a proxy that says the server behind it is down', async () => {
    const { url } = await dropping(4); // 200+400+800+1600 ms of waits: past forMs
    expect(await new RunnerClient({ url, token: 't', retry: policy }).health()).toMatchObject({ ok: true });
    server!.close();
    const proxy = await outFor(1500, 502, 'bad_gateway');
    expect(await new RunnerClient({ url: proxy.url, token: 't', retry: policy }).health()).toMatchObject({ ok: true });
  });

  it("gives up after its usual retries on a server's bug (a 500) and on storage it cannot reach itself", async () => {
    const { url } = await outFor(5000, 500, 'internal');
    const client = new RunnerClient({ url, token: 't', retry: policy });
    await expect(client.health()).rejects.toThrow('server error: a service this server uses is unreachable');
    const started = Date.now();
    const direct = retrying(
      () => directPut({ url: 'http://127.0.0.1:1/b', headers: {} }, Readable.from([Buffer.from('x')]), 1),
      policy,
    );
    await expect(direct).rejects.toThrow(/^cannot reach storage at http:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("is the long-lived runner's policy: a day through an outage, two minutes otherwise", () => {
    expect(runnerRetry(silentLogger, RUNNER_OUTAGE_MS)).toMatchObject({ forMs: 120_000, outageForMs: 86_400_000 });
    expect(runnerRetry(silentLogger)).toMatchObject({ forMs: 120_000, outageForMs: 120_000 });
  });

  it('says each retry of a request until its tries are 5 s apart, then once a minute', () => {
    const warned: string[] = [];
    const { onRetry } = runnerRetry({ warn: (message) => warned.push(message) });
    for (const delay of [200, 400, 5000, 5000, 5000]) onRetry!(new Error('down'), delay, 'POST /api/runner/claim');
    onRetry!(new Error('down'), 5000, 'POST /api/runner/heartbeat');
    expect(warned).toEqual([
      'POST /api/runner/claim failed; retrying in 200 ms',
      'POST /api/runner/claim failed; retrying in 400 ms',
      'POST /api/runner/claim failed; retrying in 5000 ms',
      'POST /api/runner/heartbeat failed; retrying in 5000 ms',
    ]);
  });
});

describe('retrying', () => {
  it('does not retry an answer that is final', async () => {
    let tries = 0;
    const fail = () => {
      tries++;
      return Promise.reject(new NotFoundError('no job x'));
    };
    await expect(retrying(fail, { forMs: 5_000 })).rejects.toThrow('no job x');
    expect(tries).toBe(1);
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    let tries = 0;
    const fail = () => {
      if (++tries === 2) controller.abort();
      return Promise.reject(new UnavailableError('down'));
    };
    await expect(retrying(fail, { forMs: 60_000 }, controller.signal)).rejects.toThrow('down');
    expect(tries).toBe(2);
  });

  it('stops waiting for its next try when its signal aborts meanwhile (a job stopped while it is prepared)', async () => {
    const controller = new AbortController();
    let tries = 0;
    const fail = () => {
      tries++;
      return Promise.reject(new UnavailableError('down'));
    };
    const waiting = retrying(
      fail,
      { forMs: 60_000, onRetry: () => setTimeout(() => controller.abort(), 50) },
      controller.signal,
    );
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(tries).toBe(1); // not tried again once the wait was over
  });

  it('tells dropped connections from answers', () => {
    expect(isTransient(new UnavailableError('x'))).toBe(true);
    expect(isTransient(new TypeError('terminated'))).toBe(true);
    expect(isTransient(Object.assign(new Error('read'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) }))).toBe(
      true,
    );
    expect(isTransient(new InvalidError('bad'))).toBe(false);
    expect(isTransient(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(false);
  });

  it('retries through a network that is gone for a moment: a laptop changing networks, a DNS hiccup', () => {
    for (const code of ['EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']) {
      const failure = new Error('fetch failed', { cause: Object.assign(new Error(code), { code }) });
      expect(isTransient(failure), code).toBe(true);
    }
    // A name that does not resolve is a wrong setting, said at once.
    expect(isTransient(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }))).toBe(false);
  });
});

describe('a download whose connection drops before it is read', () => {
  it('fails the reader, and does not crash the process', async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const blob = await new Client({ url: `http://127.0.0.1:${port}`, token: 't' }).getBlob('a'.repeat(64));
    // The connection drops while nobody reads (a runner preparing the file's folder).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const failure = await (async () => {
      for await (const chunk of blob) void chunk;
    })().catch((e: unknown) => e);
    expect(failure).toMatchObject({ message: 'aborted', code: 'ECONNRESET' });
    // A dropped connection, so a runner's download is retried.
    expect(isTransient(failure)).toBe(true);
  });
});
