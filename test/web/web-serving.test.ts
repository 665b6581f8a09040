/**
 * The server side of the dashboard, on the real app over a real SQLite store: public static
 * files with an SPA fallback that never swallows /api, and `GET /api/runners`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunnerView } from '../../src/core/api.js';
import { issueToken } from '../../src/server/auth.js';
import { testApp, type TestApp } from '../server/app-fixture.js';
import { webRoot } from '../../src/server/web.js';
import { makeJob, makeRun, makeRunner, makeSpec } from '../store/fixtures.js';

describe('the dashboard on the server', () => {
  let app: TestApp;
  const tokens: Record<string, string> = {};
  const get = (path: string, token?: string) =>
    app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  beforeAll(async () => {
    const fixture = await testApp('web');
    const store = fixture.store;
    app = fixture.app;
    tokens.admin = await issueToken(store, 'user', 'admin', true);
    tokens.ada = await issueToken(store, 'user', 'ada', false);
    tokens.runner = await issueToken(store, 'runner', 'gpu-1', false);

    await store.upsertRunner(makeRunner('gpu-1'));
    await store.upsertRunner(makeRunner('idle', { total: { cpu: 4, memory: 8e9, gpus: [] } }));
    const gpu = { index: 0, name: 'NVIDIA A100', memory: 40e9 };
    for (const user of ['ada', 'bob']) {
      const run = makeRun(`${user}-run-1`, { user });
      const spec = makeSpec('train', { resources: { cpu: 2, memory: 4e9, gpu: user === 'ada' ? 1 : 0 } });
      const job = makeJob(run, 'train', {
        id: user === 'ada' ? 'aaaaaaaaaaaa' : 'bbbbbbbbbbbb',
        spec,
        status: 'RUNNING',
        runner: 'gpu-1',
        gpus: user === 'ada' ? [gpu] : [],
      });
      await store.createRun(run, [job], user);
    }
  });

  it('serves the app at / to anyone: it holds no secrets, the API needs the token', async () => {
    expect(webRoot(), 'dist/web is missing: run `npm run build`').toBeDefined();
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    const html = await page.text();
    expect(html).toContain('<div id="app"></div>');
    expect(html).not.toMatch(/dst_|https?:\/\/(?!www\.w3\.org)/); // no token, nothing fetched from elsewhere
  });

  it('serves hashed assets as immutable, and a missing one as 404 rather than the page', async () => {
    const assets = await readdir(join(webRoot()!, 'assets'));
    const script = assets.find((f) => f.endsWith('.js'))!;
    const found = await get(`/assets/${script}`);
    expect(found.status).toBe(200);
    expect(found.headers.get('content-type')).toMatch(/javascript/);
    expect(found.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await get('/assets/index-gone.js')).status).toBe(404);
  });

  it('answers a page path with the app (deep links), but never an /api path', async () => {
    const deep = await get('/runs/calm-owl-1');
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(await deep.text()).toContain('<div id="app"></div>');
    const api = await get('/api/no-such-route', tokens.admin);
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /api/no-such-route' } });
    expect((await get('/api/no-such-route')).status).toBe(401);
  });

  it('GET /api/runners needs a user token', async () => {
    const anonymous = await get('/api/runners');
    expect(anonymous.status).toBe(401);
    const runner = await get('/api/runners', tokens.runner);
    expect(runner.status).toBe(403);
    expect(await runner.json()).toMatchObject({
      error: {
        code: 'forbidden',
        message: expect.stringMatching(/^this route is for user tokens, and this is the token of runner '/),
      },
    });
  });

  it("GET /api/runners lists each runner's capacity, what is free and its unfinished jobs", async () => {
    const views = (await (await get('/api/runners', tokens.admin)).json()) as RunnerView[];
    const gpu = views.find((v) => v.name === 'gpu-1')!;
    expect(gpu.free).toEqual({ cpu: 4, memory: 32e9 - 8e9, gpus: [] });
    expect(gpu.jobs.map((j) => j.id).sort()).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
    expect(gpu.otherJobs).toBe(0);
    const idle = views.find((v) => v.name === 'idle')!;
    expect(idle).toMatchObject({ free: idle.total, jobs: [], otherJobs: 0, status: 'ACTIVE' });
  });

  it("shows a user only their own jobs on a runner, and counts the others'", async () => {
    const views = (await (await get('/api/runners', tokens.ada)).json()) as RunnerView[];
    const gpu = views.find((v) => v.name === 'gpu-1')!;
    expect(gpu.jobs.map((j) => j.id)).toEqual(['aaaaaaaaaaaa']);
    expect(gpu.otherJobs).toBe(1);
  });
});
