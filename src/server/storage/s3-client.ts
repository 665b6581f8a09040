/**
 * Where an S3 blob store lives (`s3://bucket/prefix`) and the SDK client to reach it.
 * Credentials, region and endpoint come from the AWS SDK's usual settings
 * (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`...), as read in
 * src/settings.ts; an explicit endpoint means an S3-compatible server, addressed path-style.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { UsageError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact-url.js';
import { serverUrlProblem } from '../../core/server-url.js';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing `/`; may be empty. */
  prefix: string;
}

/** The SDK settings dstack passes on explicitly; everything else the SDK finds itself. */
export interface S3Settings {
  /** `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: an S3-compatible server (moto, MinIO...). */
  endpoint?: string;
  /** Which variable `endpoint` came from, for messages; default `AWS_ENDPOINT_URL`. */
  endpointSetting?: string;
  /** `AWS_REGION` or `AWS_DEFAULT_REGION`; us-east-1 when an endpoint is given without one. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`): on by default with an endpoint. */
  forcePathStyle?: boolean;
  /** A request whose connection is silent this long fails (and is retried by the SDK), ms; default 30 s. */
  idleTimeoutMs?: number;
}

/**
 * Without a timeout, a storage service that stopped answering (a hung S3-compatible server, a
 * network that drops packets) held every request that touched it for good, and `dstack run`
 * waited in silence. Data flows at least this often in any healthy transfer.
 */
const IDLE_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

// Bucket names as S3 allows them (3-63 lowercase letters, digits, dots, hyphens).
const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name');

/** Meant for S3: anything that starts with `s3:`, so that `s3:/bucket` is refused rather than taken as a folder. */
export function isS3Url(spec: string): boolean {
  return /^s3:/i.test(spec);
}

/** Parse `s3://bucket/prefix`; UsageError naming the setting (`--storage`, `DSTACK_STORAGE`) when it is not one. */
export function parseS3Url(spec: string, setting = '--storage'): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(spec);
  if (!match) throw new UsageError(`invalid ${setting} '${spec}': use s3://BUCKET/PREFIX (or a local folder)`);
  const bucket = bucketName.safeParse(match[1]);
  if (!bucket.success) {
    throw new UsageError(
      `invalid ${setting} '${spec}': '${match[1]}' is not an S3 bucket name ` +
        '(3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)',
    );
  }
  return { bucket: bucket.data, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/**
 * A UsageError naming the endpoint's setting, when it is not an http(s) URL or its port is out of
 * range, as for a server URL: the SDK says only `Invalid URL`, on its first request.
 */
function checkEndpoint(settings: S3Settings): void {
  const { endpoint, endpointSetting = 'AWS_ENDPOINT_URL' } = settings;
  if (endpoint === undefined) return;
  const problem = serverUrlProblem(endpoint);
  if (problem !== undefined) throw new UsageError(`invalid ${endpointSetting} '${redactUrl(endpoint)}': ${problem}`);
}

export function createS3Client(settings: S3Settings): S3Client {
  checkEndpoint(settings);
  // dstack pins an SDK release that supports Node 20 (package.json); the SDK's notice that
  // later releases will need Node 22 is not something dstack's users can act on.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.region ? { region: settings.region } : settings.endpoint ? { region: 'us-east-1' } : {}),
    forcePathStyle: settings.forcePathStyle ?? settings.endpoint !== undefined,
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: settings.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    },
    // Checksums only where S3 requires them: S3-compatible servers reject the SDK's default CRCs.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
