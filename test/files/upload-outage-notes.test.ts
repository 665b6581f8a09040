/**
 * An artifact upload that waits out an outage of the server's storage says so in the job's log:
 * once why it waits, once when it goes on, not only `0/2 files, 0B of 4.0MB` every 5 s with the
 * reason in the runner's log alone as an unnamed `request failed`; a dependency's artifacts
 * downloaded for a job likewise. Real moto, behind a forwarder that this test closes
 * (connections refused) and opens again on the same port.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { runnerRetry } from '../../src/client/retry.js';
import { scanArtifact } from '../../src/files/manifest.js';
import { downloadFiles } from '../../src/files/download.js';
import { progressNotes, retryNotes } from '../../src/files/progress-notes.js';
import { uploadScanned } from '../../src/files/upload-scanned.js';
import { freePort } from '../services/free-port.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { freshDirs } from './fresh-dirs.js';

const freshDir = await freshDirs('dstack-upload-outage-');

/** A TCP forwarder to `target` on `port`, which `close` shuts (its port refuses) and `open` opens again. */
function forwarder(port: number, target: number) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    open: () =>
      new Promise<void>((resolve) => {
        server = createServer((socket) => {
          const upstream = createConnection(target, '127.0.0.1');
          for (const s of [socket, upstream]) {
            sockets.add(s);
            s.on('close', () => sockets.delete(s));
            s.on('error', () => {});
          }
          socket.pipe(upstream).pipe(socket);
        });
        server.listen(port, '127.0.0.1', resolve);
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    },
  };
}

describe('an artifact upload while storage is out of reach', () => {
  let moto: S3Server | undefined;
  let t: TestServer | undefined;

  /** A client of the test server that retries as a runner's does, and the warnings its retries log. */
  function runnerClient(): { client: Client; warnings: string[] } {
    const warnings: string[] = [];
    const retry = runnerRetry({ warn: (message) => warnings.push(message) });
    return { client: new Client({ url: t!.server.url, token: t!.token, retry }), warnings };
  }
  let gate: ReturnType<typeof forwarder> | undefined;
  let port = 0;
  afterAll(async () => {
    await t?.stop();
    await gate?.close();
    await moto?.stop();
  });

  it("notes in the job's log once why it waits and once when it goes on; the runner's log names the request", async () => {
    moto = await startMoto();
    const { bucket } = await createBucket(moto);
    port = await freePort();
    gate = forwarder(port, Number(new URL(moto.endpoint).port));
    await gate.open();
    t = await startTestServer({
      storage: `s3://${bucket}/blobs`,
      s3: { ...moto.settings, endpoint: `http://127.0.0.1:${port}` },
    });
    const root = await freshDir();
    await writeFile(join(root, 'a.bin'), randomBytes(2 << 20));
    await writeFile(join(root, 'b.bin'), randomBytes(2 << 20));
    const scanned = (await scanArtifact(root, '.'))!;
    const { client, warnings } = runnerClient();
    const notes: string[] = [];
    const options = progressNotes('uploading artifacts', (text) => notes.push(text));

    await gate.close();
    setTimeout(() => void gate!.open(), 2500);
    const sent = await uploadScanned(client, root, scanned, undefined, options);

    expect(sent).toMatchObject({ files: 2, bytes: 4 << 20 });
    const waits = notes.filter((n) => n.startsWith('uploading artifacts: waiting'));
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatch(
      new RegExp(
        `^uploading artifacts: waiting, retrying: the artifact storage is unavailable: S3 bucket 'dstack-test-[0-9a-f]+' at http://127\\.0\\.0\\.1:${port} cannot be reached \\(ECONNREFUSED\\)$`,
      ),
    );
    expect(notes.filter((n) => n === 'uploading artifacts: going on')).toHaveLength(1);
    expect(notes.indexOf('uploading artifacts: going on')).toBeGreaterThan(notes.indexOf(waits[0]!));
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) expect(w).toMatch(/^POST \/api\/blobs\/uploads failed; retrying in \d+ ms$/);
  }, 60_000);

  it('a big file sent straight to storage: the note says storage is out of reach, the runner names the file', async () => {
    const root = await freshDir();
    await writeFile(join(root, 'model.bin'), randomBytes(2 << 20));
    const scanned = (await scanArtifact(root, '.'))!;
    const { client, warnings } = runnerClient();
    const notes: string[] = [];
    const notesOptions = progressNotes('uploading artifacts', (text) => notes.push(text));
    let closed = false;
    // Storage goes away once the file has started to stream to it (the plan went through).
    const onProgress: typeof notesOptions.onProgress = (p) => {
      if (!closed) {
        closed = true;
        void gate!.close().then(() => setTimeout(() => void gate!.open(), 2500));
      }
      notesOptions.onProgress(p);
    };
    const sent = await uploadScanned(client, root, scanned, undefined, { ...notesOptions, onProgress });

    expect(sent).toMatchObject({ files: 1, bytes: 2 << 20 });
    expect(notes).toEqual([
      expect.stringMatching(
        new RegExp(
          `^uploading artifacts: waiting, retrying: cannot reach storage at http://127\\.0\\.0\\.1:${port}: (connect ECONNREFUSED 127\\.0\\.0\\.1:${port}|socket hang up|read ECONNRESET|write EPIPE|write ECONNRESET)$`,
        ),
      ),
      'uploading artifacts: going on',
    ]);
    expect(warnings.length).toBeGreaterThan(0);
    // A retried direct upload asks the server for a fresh URL first (transfer.ts): that request waits too.
    for (const w of warnings)
      expect(w).toMatch(/^(upload of model\.bin to storage|POST \/api\/blobs\/uploads) failed; retrying in \d+ ms$/);
    expect(warnings.some((w) => w.startsWith('upload of model.bin to storage failed'))).toBe(true);
  }, 60_000);

  it("a dependency's artifacts downloaded while storage is out of reach: the note says why, once, and that it goes on", async () => {
    const root = await freshDir();
    await writeFile(join(root, 'weights.bin'), randomBytes(2 << 20));
    const scanned = (await scanArtifact(root, '.'))!;
    await uploadScanned(t!.client, root, scanned, undefined);
    const { client, warnings } = runnerClient();
    const notes: string[] = [];
    await gate!.close();
    setTimeout(() => void gate!.open(), 2500);
    const got = await downloadFiles(
      client,
      await freshDir(),
      scanned.map((s) => s.entry),
      { retries: retryNotes('downloading artifacts of train (calm-owl-1-train)', (text) => notes.push(text)) },
    );

    expect(got).toMatchObject({ files: 1, bytes: 2 << 20 });
    expect(notes).toEqual([
      expect.stringMatching(
        new RegExp(
          `^downloading artifacts of train \\(calm-owl-1-train\\): waiting, retrying: the artifact storage is unavailable: S3 bucket 'dstack-test-[0-9a-f]+' at http://127\\.0\\.0\\.1:${port} cannot be reached \\(ECONNREFUSED\\)$`,
        ),
      ),
      'downloading artifacts of train (calm-owl-1-train): going on',
    ]);
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) expect(w).toMatch(/^download of weights\.bin failed; retrying in \d+ ms$/);
  }, 60_000);
});
