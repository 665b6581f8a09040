/**
 * A run's code manifest is read whole, so a blob named as one is read only up to the bound of a
 * preview's body, which lists it too (body-limit.ts): a bigger one is refused before the server holds it all.
 * Through the real app over a real local blob store.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobPath } from '../../src/files/blob-path.js';
import { MAX_CODE_LIST_BYTES } from '../../src/server/api/body-limit.js';
import { issueToken } from '../../src/server/auth.js';
import { makeSpec } from '../store/fixtures.js';
import { callApi, testApp } from './app-fixture.js';

describe('a code manifest bigger than the server reads', () => {
  it('refuses the run with a 413 naming the manifest and what to leave out, and stores no run', async () => {
    const { dir, engine, app } = await testApp('code-limit');
    const user = await issueToken(engine.store, 'user', 'ada', false);
    // A blob as an uploader could make it: any size. A sparse file holds it without the disk.
    const codeDigest = 'e'.repeat(64);
    const file = blobPath(join(dir, 'blobs'), codeDigest);
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(file, 'w');
    await handle.truncate(MAX_CODE_LIST_BYTES + 1);
    await handle.close();

    const submitted = await callApi(app, user, 'POST', '/api/runs', {
      workflow: 'train',
      overrides: {},
      repo: { root: '/p' },
      codeDigest,
      jobs: [makeSpec('train', { artifacts: [] })],
    });
    expect(submitted).toStrictEqual({
      status: 413,
      json: {
        error: {
          code: 'too_large',
          message:
            `code manifest ${codeDigest} is over 64 MiB, the most the server reads: it lists every file of ` +
            "the run's code, so git-ignore the folders of many files that the jobs do not need",
        },
      },
    });
    expect(await engine.store.listRuns({ user: 'ada', limit: 1 })).toEqual([]);
  });
});
