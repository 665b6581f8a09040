/** Choosing the blob store from `--storage`: a local folder (the default) or `s3://bucket/prefix`. */
import { join, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact-url.js';
import { makePrivateFolder } from '../../files/private-folder.js';
import type { Logger } from '../../logger.js';
import { readyOrClosed } from '../ready-or-closed.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';
import { createS3Client, isS3Url, parseS3Url, type S3Settings } from './s3-client.js';

/**
 * Open the store `spec` names (default `<dataDir>/artifacts`); an S3 bucket is checked to be
 * reachable. `setting` is how the user gave it (`--storage` or `DSTACK_STORAGE`), for messages;
 * `logger` hears of the storage's outages.
 */
export async function openBlobStore(
  spec: string | undefined,
  dataDir: string,
  s3: S3Settings,
  setting = '--storage',
  logger?: Pick<Logger, 'warn'>,
): Promise<BlobStore> {
  if (!spec) return new LocalBlobStore(join(dataDir, 'artifacts'));
  if (isS3Url(spec)) {
    const location = parseS3Url(spec, setting);
    const store = new S3BlobStore(createS3Client(s3), location, {
      spoolDir: join(dataDir, 'tmp'),
      ...(s3.endpoint && { endpoint: redactUrl(s3.endpoint) }),
      // The operator hears of an outage that the callers' 503s only tell them.
      ...(logger && {
        onOutage: (message: string) => logger.warn(`${message}; callers are answered 503 until it is back`),
      }),
    });
    return readyOrClosed(store, (s) => s.check());
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new UsageError(`invalid ${setting} '${spec}': use s3://BUCKET/PREFIX or a local folder`);
  }
  // Every user's code and artifacts: its user's alone, as the data folder.
  const root = resolve(spec);
  await makePrivateFolder(root, { setting, value: spec, hint: 'give a folder or s3://BUCKET/PREFIX' });
  return new LocalBlobStore(root);
}

/** `--storage` as it may be shown in logs. */
export function describeStorage(spec: string | undefined, dataDir: string): string {
  return spec ?? join(dataDir, 'artifacts');
}
