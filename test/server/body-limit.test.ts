/** Bodies read whole are bounded; blob uploads, streamed to storage, are not. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../src/server/api/http-errors.js';
import { limitBodies, MAX_BODY_BYTES } from '../../src/server/api/body-limit.js';
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
  app.use('/api/*', limitBodies(maxBytes));
  app.post('/api/echo', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  app.put('/api/blobs/:digest', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  return app;
}

const post = (app: Hono, path: string, body: ReadableStream<Uint8Array> | string, method = 'POST') =>
  app.request(path, { method, body, ...(typeof body === 'string' ? {} : { duplex: 'half' }) } as RequestInit);

describe('request body limits', () => {
  it("refuses a body whose declared length is over the limit, before reading it, on the server's routes", async () => {
    const { store, app } = await testApp('body-limit');
    const token = await issueToken(store, 'user', 'ada', true);
    const response = await app.request('/api/runs', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': String(MAX_BODY_BYTES + 1),
      },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { message: 'the request body is over 256 MiB, the most this server reads at once' },
    });
  });

  it('counts a body without a declared length as it arrives', async () => {
    const app = small(1000);
    const over = await post(app, '/api/echo', chunked(3, 400));
    expect(over.status).toBe(400);
    expect(await over.json()).toMatchObject({
      error: { message: 'the request body is over 1000 bytes, the most this server reads at once' },
    });
    const under = await post(app, '/api/echo', chunked(2, 400));
    expect(await under.json()).toEqual({ bytes: 800 });
  });

  it('leaves blob uploads, which are streamed to storage, unbounded', async () => {
    const app = small(1000);
    const upload = await post(app, `/api/blobs/${'a'.repeat(64)}`, chunked(3, 400), 'PUT');
    expect(await upload.json()).toEqual({ bytes: 1200 });
  });
});
