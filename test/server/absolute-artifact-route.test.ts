/**
 * The server refuses a run whose absolute artifact paths the planner would have refused: a
 * client that skips the planner's checks gets a 400 naming the path, not a job that fails at
 * the engine. Through the real app.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/server/auth.js';
import { makeSpec } from '../store/fixtures.js';
import { callApi, type TestApp } from './app-fixture.js';
import { engineWith, putBlob } from './engine-fixture.js';
import type { Engine } from '../../src/server/engine.js';

describe('absolute artifact paths a client sends', () => {
  let app: TestApp;
  let engine: Engine;
  let user: string;
  let codeDigest: string;

  beforeAll(async () => {
    ({ engine, app } = await engineWith([]));
    user = await issueToken(engine.store, 'user', 'ada', false);
    codeDigest = await putBlob(engine, JSON.stringify({ files: [] }));
  });

  const submit = (artifacts: string[], image?: string) =>
    callApi(app, user, 'POST', '/api/runs', {
      workflow: 'train',
      overrides: {},
      repo: { root: '/p' },
      codeDigest,
      jobs: [makeSpec('train', { artifacts, ...(image === undefined ? {} : { image }) })],
    });
  const refused = (message: string) => ({
    status: 400,
    json: { error: { code: 'invalid', message: `invalid request: jobs.0.artifacts.0: ${message}` } },
  });

  it('refuses those the runner cannot mount a folder at, naming the path', async () => {
    expect(await submit(['/proc/x'], 'busybox')).toStrictEqual(
      refused(
        "the absolute artifact path '/proc/x' is in /proc, a file system the kernel gives every container, " +
          'not files a job saves: name a folder the job writes its files to, such as /opt/results',
      ),
    );
    expect(await submit(['//workspace'], 'busybox')).toStrictEqual(
      refused("the absolute artifact path '//workspace' is not normalised (no ., .. or doubled /)"),
    );
    expect(await submit(['/.dstack/x'], 'busybox')).toMatchObject({ status: 400 });
    expect(await submit(['/opt/out'])).toStrictEqual(
      refused("the absolute artifact path '/opt/out' needs a container (image)"),
    );
  });

  it('takes a folder a container can have', async () => {
    expect((await submit(['/opt/results'], 'busybox')).status).toBe(201);
  });
});
