/** Blobs: which are missing, upload one (verified against its digest), download one. */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Hono } from 'hono';
import { InvalidError } from '../../core/errors.js';
import type { ApiDeps, ApiEnv } from './context.js';
import * as schemas from './schemas.js';
import { body } from './validate.js';

export function blobRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/blobs/missing', async (c) => {
    const { digests } = await body(c, schemas.digests);
    return c.json({ missing: await engine.blobs.missing(digests) });
  });

  app.put('/blobs/:digest', async (c) => {
    const stream = c.req.raw.body;
    if (!stream) throw new InvalidError('blob upload has no body');
    await engine.blobs.put(c.req.param('digest'), Readable.fromWeb(stream as WebReadableStream<Uint8Array>));
    return c.json({ ok: true }, 201);
  });

  app.get('/blobs/:digest', async (c) => {
    const content = await engine.blobs.get(c.req.param('digest'));
    const size = await engine.blobs.size(c.req.param('digest'));
    return new Response(Readable.toWeb(content) as ReadableStream, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size ?? '') },
    });
  });
  return app;
}
