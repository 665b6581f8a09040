import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { inProcessFetch } from '../../src/server/in-process-fetch.js';

function app() {
  const hono = new Hono();
  hono.get('/api/health', (c) =>
    c.json({ ok: true, version: c.req.header('authorization') ?? '', caller: new URL(c.req.url).host }),
  );
  hono.get('/slow', async (c) => {
    await new Promise<void>((resolve) => c.req.raw.signal.addEventListener('abort', () => resolve()));
    return c.json({ late: true });
  });
  hono.post('/json', async (c) =>
    c.json({ got: await c.req.json(), method: c.req.method, type: c.req.header('content-type') }),
  );
  hono.post('/bytes', async (c) => c.json({ n: (await c.req.arrayBuffer()).byteLength }));
  hono.post('/stream', async (c) => c.json({ text: await new Response(c.req.raw.body).text() }));
  return hono;
}

describe('inProcessFetch', () => {
  it('hands a client request to the app as it would arrive over HTTP, headers included', async () => {
    const client = new Client({ url: 'http://127.0.0.1:1', token: 't0k', fetch: inProcessFetch(app()) });
    expect(await client.health()).toEqual({ ok: true, version: 'Bearer t0k', caller: '127.0.0.1:1' });
  });

  it('rejects with an AbortError when the signal aborts, and the handler sees the abort', async () => {
    const send = inProcessFetch(app());
    const controller = new AbortController();
    const pending = send('http://x/slow', { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(send('http://x/slow', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('passes a body held in memory to every reader: json, bytes, and the body as a stream', async () => {
    const send = inProcessFetch(app());
    const headers = { 'content-type': 'application/json' };
    const json = await send('http://x/json', { method: 'post', headers, body: JSON.stringify({ a: [1, 'é'] }) });
    expect(await json.json()).toEqual({ got: { a: [1, 'é'] }, method: 'POST', type: 'application/json' });
    const bytes = await send('http://x/bytes', { method: 'POST', body: Buffer.from('héllo') });
    expect(await bytes.json()).toEqual({ n: 6 });
    const stream = await send('http://x/stream', { method: 'POST', body: Buffer.from('streamed') });
    expect(await stream.json()).toEqual({ text: 'streamed' });
  });
});
