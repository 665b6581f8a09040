/** The curl provider's download in the runner, against a local HTTP server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFetch } from '../../src/runner/fetch-job.js';
import { tempDir } from './helpers.js';

describe('the curl download', () => {
  let server: Server;
  let base: string;
  let workspace: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-length': String(1 << 20) });
        res.write(Buffer.alloc(1024));
        return; // never ends: only a stop does
      }
      if (req.url === '/big') return void res.end(Buffer.alloc(300_000, 1));
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    workspace = await tempDir();
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await rm(workspace, { recursive: true, force: true });
  });

  it('writes the body to output inside the workspace, noting its size as artifact messages do', async () => {
    const notes: string[] = [];
    const exit = await startFetch({ url: `${base}/big`, output: 'data/big.bin', workspace, note: (t) => notes.push(t) })
      .exit;
    expect(exit).toEqual({ code: 0, signal: null });
    expect((await readFile(join(workspace, 'data/big.bin'))).length).toBe(300_000);
    expect(notes).toEqual([`downloading ${base}/big to data/big.bin (300KB)`, 'downloaded 300KB to data/big.bin']);
  });

  it('gives up on a server error after its tries, with the status as the reason', async () => {
    const notes: string[] = [];
    const exit = await startFetch({
      url: `${base}/err`,
      output: 'x',
      workspace,
      note: (t) => notes.push(t),
      backoffMs: 10,
      attempts: 3,
    }).exit;
    expect(exit).toEqual({ code: 1, signal: null, reason: `HTTP 500 Internal Server Error from ${base}/err` });
    expect(notes).toEqual([
      `HTTP 500 Internal Server Error from ${base}/err; retrying in 0.01 s (try 2 of 3)`,
      `HTTP 500 Internal Server Error from ${base}/err; retrying in 0.02 s (try 3 of 3)`,
    ]);
  });

  it('says what the network said when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise((resolve) => closed.close(resolve));
    const exit = await startFetch({ url, output: 'x', workspace, note: () => {}, backoffMs: 1, attempts: 2 }).exit;
    expect(exit).toEqual({ code: 1, signal: null, reason: `cannot download ${url}: ECONNREFUSED` });
  });

  it('fails at once on a port fetch refuses, as browsers do, saying so rather than "bad port"', async () => {
    const notes: string[] = [];
    // Port 6000 (X11) is on the fetch standard's list.
    const url = 'http://127.0.0.1:6000/data.csv';
    const exit = await startFetch({ url, output: 'x', workspace, note: (t) => notes.push(t), backoffMs: 10 }).exit;
    expect(exit).toEqual({
      code: 1,
      signal: null,
      reason:
        `cannot download ${url}: port 6000 is one that fetch refuses, as browsers do (the fetch standard's ` +
        'blocked ports, which other protocols use): serve the file on another port',
    });
    expect(notes).toEqual([]); // no tries again: none could get through
  });

  it('refuses an output path that leaves the workspace', async () => {
    const exit = await startFetch({ url: `${base}/big`, output: '../outside', workspace, note: () => {} }).exit;
    expect(exit).toEqual({
      code: 1,
      signal: null,
      reason: `cannot download ${base}/big: path '../outside' leaves its folder`,
    });
  });

  it('stops a download in flight', async () => {
    const execution = startFetch({ url: `${base}/slow`, output: 'slow.bin', workspace, note: () => {} });
    await new Promise((r) => setTimeout(r, 200));
    execution.terminate();
    expect(await execution.exit).toEqual({ code: null, signal: 'SIGTERM' });
  });
});
