/**
 * A pack download cut off by an outage of the server's artifact storage reads as any request
 * the outage fails, a 503 (`the artifact storage is unavailable: S3 bucket … cannot be reached`, docs/storage.md),
 * not the storage client's own words after `the server cut off a pack:`. Real moto, stopped.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/core/errors.js';
import { downloadFiles, packError } from '../../src/files/download.js';
import { describeFiles } from '../../src/files/manifest.js';
import { uploadFiles } from '../../src/files/transfer.js';
import { createBucket, startMoto, type S3Server } from '../services/s3.js';
import { startTestServer, type TestServer } from '../services/server.js';
import { freshDirs } from './fresh-dirs.js';

const freshDir = await freshDirs('dstack-pack-outage-');

describe('a pack download during an outage of S3', () => {
  let moto: S3Server | undefined;
  let t: TestServer | undefined;
  afterAll(async () => {
    await t?.stop();
    await moto?.stop();
  });

  it("fails as a 503 does, saying the server's storage is unreachable and to try again", async () => {
    moto = await startMoto();
    const { bucket } = await createBucket(moto);
    t = await startTestServer({ storage: `s3://${bucket}/blobs`, s3: moto.settings });
    const root = await freshDir();
    await writeFile(join(root, 'a.txt'), 'a');
    await writeFile(join(root, 'b.txt'), 'b');
    const entries = await describeFiles(root, ['a.txt', 'b.txt']);
    await uploadFiles(t.client, root, entries);
    await moto.stop(); // its port refuses connections from now on

    const failure = await downloadFiles(t.client, await freshDir(), entries).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect((failure as Error).message).toMatch(
      /^the artifact storage is unavailable: S3 bucket 'dstack-test-[0-9a-f]+' at http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)$/,
    );
  });
});

describe('the error in a cut-off pack', () => {
  it('is read as the answer it would have been; a message alone (an older server) says the pack was cut off', () => {
    const notFound = packError(
      JSON.stringify({ status: 404, error: { code: 'not_found', message: 'blob x is not stored' } }),
    );
    expect(notFound.message).toBe('the server cut off a pack: blob x is not stored');
    expect(packError('socket hang up')).toEqual(new UnavailableError('the server cut off a pack: socket hang up'));
  });
});
