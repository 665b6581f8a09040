/** Bodies read whole are bounded (a run's with what to do), an artifact manifest more loosely; blob uploads, streamed to storage, are not. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../src/server/api/http-errors.js';
import {
  limitBodies,
  MAX_BODY_BYTES,
  MAX_CODE_LIST_BYTES,
  MAX_RUN_BODY_BYTES,
} from '../../src/server/api/body-limit.js';
import { issueToken } from '../../src/server/auth.js';
import { silentLogger } from '../../src/logger.js';
import { testApp } from './app-fixture.js';

/** A body that arrives in pieces, with no declared length (chunked). */
function chunked(pieces: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ === pieces) controller.close();
      else controller.enqueue(new Uint8Array(size));
    },
  });
}

function small(maxBytes: number) {
  const app = new Hono();
  app.onError((error, c) => errorResponse(c, error, silentLogger));
  app.use('/api/*', limitBodies(maxBytes, maxBytes * 2));
  app.post('/api/echo', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  app.put('/api/runner/jobs/:id/artifacts', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  app.put('/api/blobs/:digest', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  return app;
}

const post = (app: Hono, path: string, body: ReadableStream<Uint8Array> | string, method = 'POST') =>
  app.request(path, { method, body, ...(typeof body === 'string' ? {} : { duplex: 'half' }) } as RequestInit);

describe('request body limits', () => {
  it("refuses a body whose declared length is over the limit, before reading it, on the server's routes", async () => {
    const { store, app } = await testApp('body-limit');
    const token = await issueToken(store, 'user', 'ada', true);
    const declaring = (path: string, length: number) =>
      app.request(path, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': String(length),
        },
        body: '{}',
      });
    const refused = async (path: string, length: number) => {
      const response = await declaring(path, length);
      return [response.status, await response.json()];
    };
    expect(await refused('/api/blobs/missing', MAX_BODY_BYTES + 1)).toEqual([
      413,
      {
        error: {
          code: 'too_large',
          message: 'the request body is over 16 MiB, the most this server reads for POST /api/blobs/missing',
        },
      },
    ]);
    const splitRun =
      "split the workflow into smaller runs (a job depends on another run's through its tag: depends-on: [WORKFLOW:TAG])";
    expect(await refused('/api/runs', MAX_RUN_BODY_BYTES + 1)).toEqual([
      413,
      {
        error: {
          code: 'too_large',
          message: `the request body is over 16 MiB, the most this server reads for POST /api/runs: ${splitRun}`,
        },
      },
    ]);
    expect(await refused('/api/runs/preview', MAX_CODE_LIST_BYTES + 1)).toEqual([
      413,
      {
        error: {
          code: 'too_large',
          message:
            `the request body is over 64 MiB, the most this server reads for POST /api/runs/preview: ${splitRun}, ` +
            'or git-ignore the folders of many files that the jobs do not need',
        },
      },
    ]);
  });

  it('counts a body without a declared length as it arrives', async () => {
    const app = small(1000);
    const over = await post(app, '/api/echo', chunked(3, 400));
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({
      error: { message: 'the request body is over 1000 bytes, the most this server reads for POST /api/echo' },
    });
    const under = await post(app, '/api/echo', chunked(2, 400));
    expect(await under.json()).toEqual({ bytes: 800 });
  });

  it('leaves blob uploads, which are streamed to storage, unbounded', async () => {
    const app = small(1000);
    const upload = await post(app, `/api/blobs/${'a'.repeat(64)}`, chunked(3, 400), 'PUT');
    expect(await upload.json()).toEqual({ bytes: 1200 });
  });

  it('reads an artifact manifest, not bounded in number of files, up to its own larger limit', async () => {
    const app = small(1000);
    const manifest = await post(app, '/api/runner/jobs/j1/artifacts', chunked(4, 400), 'PUT');
    expect(await manifest.json()).toEqual({ bytes: 1600 });
    const over = await post(app, '/api/runner/jobs/j1/artifacts', chunked(6, 400), 'PUT');
    expect(over.status).toBe(413);
  });
});
