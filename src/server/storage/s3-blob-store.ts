/**
 * BlobStore on S3 (or an S3-compatible server): `<prefix>/ab/abcdef…`. A put is verified
 * before anything is written (S3 has no rename: the content is spooled and hashed first,
 * then written in one PutObject or a multipart upload, which S3 makes visible only once
 * complete). Clients move big blobs straight to and from S3 through presigned URLs.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { forEachLimit } from '../../core/concurrency.js';
import { DISK_FULL, DISK_FULL_CODES, errorWithCode } from '../../core/disk-errors.js';
import { InternalError, InvalidError, NotFoundError, StorageFullError, UnavailableError } from '../../core/errors.js';
import { DIGEST, emptyStats, type BlobStore, type BlobStoreStats, type DirectRequest } from './blob-store.js';
import type { S3Location } from './s3-client.js';
import { s3Outage } from './s3-outage.js';
import { spool, type Spooled } from './spool.js';

/** S3's limit for one PUT; bigger blobs go through the server as multipart uploads. */
const MAX_SINGLE_PUT = 5 * 1024 ** 3;
/** Presigned URLs stay valid this long: enough for a slow upload of a big checkpoint. */
const PRESIGN_SECONDS = 3600;
const PART_SIZE = 16 << 20;

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404;
}

/** A request with a body in its answer says so; a HEAD's 404 cannot tell a missing bucket from a missing key. */
function isNoSuchBucket(e: unknown): boolean {
  return (e as { name?: string }).name === 'NoSuchBucket';
}

/** A missing bucket may be created; one that cannot be reached is a matter of address and credentials. */
const bucketProblem = (bucket: string, why: string) =>
  `S3 bucket '${bucket}' ${why}; ${why === 'does not exist' ? 'create it, or ' : ''}` +
  'check AWS_ENDPOINT_URL, AWS_REGION and the credentials';

/** sha256 hex → base64, the form S3's checksum headers take. */
const base64Digest = (digest: string) => Buffer.from(digest, 'hex').toString('base64');

export interface S3BlobStoreOptions {
  /** Where puts that do not fit in memory are spooled while they are verified (default: the OS temp dir). */
  spoolDir?: string;
  /** How long `check` waits for the bucket's answer, retries included, ms; default CHECK_MS. */
  checkMs?: number;
  /** The endpoint as it may be shown (no password), for messages; absent for AWS's own. */
  endpoint?: string;
  /** How long a request that moves no content (a HEAD, a listing, a delete, a GET's answer) may take, tries included, ms; default REQUEST_MS. */
  requestMs?: number;
  /** Told of an outage of the storage (an error answered as a 503), at most once a minute. */
  onOutage?: (message: string) => void;
}

/**
 * The start's check of the bucket gets this long. A request to an endpoint that accepts and
 * never answers fails at the client's idle timeout, three times over with the SDK's retries:
 * the server's start said nothing for 90 s. Transfers keep the retries; the first look need not.
 */
const CHECK_MS = 15_000;

/**
 * A request that moves no content answers in well under a second from a working S3. With the
 * client's idle timeout and the SDK's three tries alone, a hung endpoint held each for 90 s (99 s
 * measured) before the caller heard anything, and a job's save waited that long per request
 * before its log said why. Content (PUTs, GET bodies) keeps the idle timeout: a slow link moves.
 */
const REQUEST_MS = 20_000;
/** How often an outage is told to `onOutage`. */
const OUTAGE_NOTE_MS = 60_000;

/** Digests known to be stored, remembered so that a re-run's upload plan costs no HEAD per file. */
const KNOWN_MAX = 200_000;

export class S3BlobStore implements BlobStore {
  private readonly counters = emptyStats();
  private readonly spoolDir: string;
  private readonly checkMs: number;
  private readonly requestMs: number;
  private readonly where: string;
  private readonly onOutage: ((message: string) => void) | undefined;
  private outageNotedAt = 0;
  /**
   * Blobs never change once stored, and only this store's `delete` is meant to remove them
   * (prune). One found gone all the same (a bucket emptied or recreated by hand) shows this
   * memory is stale, and all of it is forgotten: the next `missing` asks S3 again.
   */
  private readonly known = new Set<string>();

  constructor(
    private readonly s3: S3Client,
    private readonly location: S3Location,
    options: S3BlobStoreOptions = {},
  ) {
    this.spoolDir = options.spoolDir ?? tmpdir();
    this.checkMs = options.checkMs ?? CHECK_MS;
    this.requestMs = options.requestMs ?? REQUEST_MS;
    this.where = `S3 bucket '${location.bucket}'${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.onOutage = options.onOutage;
  }

  /**
   * A request that must be answered within `requestMs` (its tries included); its failure as
   * `failure` makes it. The deadline ends once the answer starts: a GET's body streams on.
   */
  private async answered<T>(request: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.requestMs);
    try {
      return await request(controller.signal);
    } catch (e) {
      throw controller.signal.aborted ? this.failure(e, this.requestMs) : e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fail early, with what to check, when the bucket cannot be reached. */
  async check(): Promise<void> {
    const deadline = AbortSignal.timeout(this.checkMs);
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.location.bucket }), { abortSignal: deadline });
    } catch (e) {
      const why = isNotFound(e)
        ? 'does not exist'
        : deadline.aborted
          ? `cannot be reached (no answer in ${this.checkMs / 1000} s)`
          : `cannot be reached (${(e as Error).name}: ${(e as Error).message})`;
      throw new UnavailableError(bucketProblem(this.location.bucket, why), { cause: e });
    }
  }

  /**
   * What to throw for an S3 failure: a bucket gone is named as such, and takes every remembered
   * blob with it; an outage (5xx, throttling, silence, no connection) is an UnavailableError
   * naming the bucket and endpoint; anything else as it is. `deadlineMs`: the request's deadline.
   */
  private failure(e: unknown, deadlineMs?: number): unknown {
    if (e instanceof UnavailableError) return e; // made here already
    if (isNoSuchBucket(e)) {
      this.known.clear();
      return new UnavailableError(bucketProblem(this.location.bucket, 'does not exist'), { cause: e });
    }
    const outage = s3Outage(e, this.where, deadlineMs);
    if (!outage) return e;
    const now = Date.now();
    if (now - this.outageNotedAt >= OUTAGE_NOTE_MS) {
      this.outageNotedAt = now;
      this.onOutage?.(outage.message);
    }
    return outage;
  }

  /** A read found `digest` absent: if it was remembered as stored, nothing remembered can be trusted. */
  private foundGone(digest: string): void {
    if (this.known.has(digest)) this.known.clear();
  }

  private checked(digest: string): string {
    if (!DIGEST.test(digest)) throw new InvalidError(`not a sha256 digest: '${digest}'`);
    return digest;
  }

  private key(digest: string): string {
    this.checked(digest);
    const shard = `${digest.slice(0, 2)}/${digest}`;
    return this.location.prefix ? `${this.location.prefix}/${shard}` : shard;
  }

  stats(): BlobStoreStats {
    return { ...this.counters };
  }

  async missing(digests: readonly string[]): Promise<string[]> {
    const unknown = [...new Set(digests)].filter((d) => !this.known.has(this.checked(d)));
    const absent = new Set<string>();
    await forEachLimit(unknown, 32, async (d) => {
      if ((await this.size(d)) === undefined) absent.add(d);
    });
    return unknown.filter((d) => absent.has(d)); // in the order asked, whatever order the answers came in
  }

  async put(digest: string, content: Readable): Promise<void> {
    const Key = this.key(digest);
    const spooled = await spool(content, this.spoolDir).catch((e: unknown) => {
      throw this.spoolFull(e);
    });
    try {
      await this.write(digest, Key, spooled);
    } catch (e) {
      throw this.failure(e);
    } finally {
      await spooled.dispose();
    }
  }

  /**
   * A full disk under the spool folder is the server's own disk, not the bucket: the 507 said
   * `the server's storage is full`, and the operator of an S3 server looked at S3.
   */
  private spoolFull(e: unknown): unknown {
    const full = errorWithCode(e, DISK_FULL_CODES);
    if (!full) return e;
    return new StorageFullError(
      `the server's disk is full (${DISK_FULL[full.code]}) at ${this.spoolDir}, where an upload to ` +
        `${this.where} over 8 MiB is held whole while it is checked: free space there (a blob needs its ` +
        'size free), or move the data folder to a bigger disk',
      { cause: e },
    );
  }

  /** Write a spooled blob once it is verified: one PutObject, or a multipart upload when it is on disk. */
  private async write(digest: string, Key: string, spooled: Spooled): Promise<void> {
    if (spooled.digest !== digest)
      throw new InvalidError(`blob content does not match its digest (expected ${digest}, got ${spooled.digest})`);
    const Bucket = this.location.bucket;
    if (spooled.buffer) {
      await this.s3.send(
        new PutObjectCommand({ Bucket, Key, Body: spooled.buffer, ChecksumSHA256: base64Digest(digest) }),
      );
    } else {
      const upload = new Upload({
        client: this.s3,
        params: { Bucket, Key, Body: spooled.open() },
        partSize: PART_SIZE,
        queueSize: 4,
      });
      await upload.done();
    }
    this.remember(digest);
    this.counters.blobsWritten++;
    this.counters.bytesWritten += spooled.size;
  }

  async get(digest: string): Promise<Readable> {
    const Key = this.key(digest);
    try {
      const object = await this.answered((abortSignal) =>
        this.s3.send(new GetObjectCommand({ Bucket: this.location.bucket, Key }), { abortSignal }),
      );
      this.counters.blobsRead++;
      this.counters.bytesRead += object.ContentLength ?? 0;
      return object.Body as Readable;
    } catch (e) {
      if (!isNotFound(e) || isNoSuchBucket(e)) throw this.failure(e);
      this.foundGone(digest);
      throw new NotFoundError(`blob ${digest} is not stored`, { cause: e });
    }
  }

  private remember(digest: string): void {
    if (this.known.size >= KNOWN_MAX) this.known.clear();
    this.known.add(digest);
  }

  async size(digest: string): Promise<number | undefined> {
    const Key = this.key(digest);
    try {
      const head = await this.answered((abortSignal) =>
        this.s3.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key }), { abortSignal }),
      );
      this.remember(digest);
      return head.ContentLength ?? 0;
    } catch (e) {
      if (!isNotFound(e)) throw this.failure(e);
      this.foundGone(digest);
      return undefined;
    }
  }

  async *list(): AsyncIterable<{ digest: string; size: number; storedAt: number }> {
    let ContinuationToken: string | undefined;
    do {
      const command = new ListObjectsV2Command({
        Bucket: this.location.bucket,
        ...(this.location.prefix ? { Prefix: `${this.location.prefix}/` } : {}),
        ...(ContinuationToken ? { ContinuationToken } : {}),
      });
      const page = await this.answered((abortSignal) => this.s3.send(command, { abortSignal })).catch((e: unknown) => {
        throw this.failure(e);
      });
      for (const object of page.Contents ?? []) {
        const digest = object.Key?.split('/').pop() ?? '';
        if (!DIGEST.test(digest) || object.Key !== this.key(digest)) continue; // not a blob of this store
        yield { digest, size: object.Size ?? 0, storedAt: object.LastModified?.getTime() ?? 0 };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async delete(digest: string): Promise<void> {
    this.known.delete(digest);
    const command = new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.key(digest) });
    await this.answered((abortSignal) => this.s3.send(command, { abortSignal })).catch((e: unknown) => {
      throw this.failure(e);
    });
  }

  readonly direct = {
    presignPut: async (digest: string, size: number): Promise<DirectRequest | undefined> => {
      if (size > MAX_SINGLE_PUT) return undefined;
      const checksum = base64Digest(digest);
      const command = new PutObjectCommand({
        Bucket: this.location.bucket,
        Key: this.key(digest),
        ContentLength: size,
        ChecksumSHA256: checksum,
      });
      // Kept as a signed header, not hoisted into the query: S3 then checks the body against it.
      const url = await getSignedUrl(this.s3, command, {
        expiresIn: PRESIGN_SECONDS,
        unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
      });
      this.counters.presignedPuts++;
      this.counters.presignedPutBytes += size;
      return {
        url,
        headers: signedHeaders(url, { 'x-amz-checksum-sha256': checksum, 'content-length': String(size) }),
      };
    },
    presignGet: async (digest: string): Promise<DirectRequest> => {
      const command = new GetObjectCommand({ Bucket: this.location.bucket, Key: this.key(digest) });
      const url = await getSignedUrl(this.s3, command, { expiresIn: PRESIGN_SECONDS });
      this.counters.presignedGets++;
      return { url, headers: {} };
    },
  };

  async close(): Promise<void> {
    this.s3.destroy();
  }
}

/** The headers a presigned URL signed (besides host), with the values they must have. */
function signedHeaders(url: string, known: Record<string, string>): Record<string, string> {
  const signed = new URL(url).searchParams.get('X-Amz-SignedHeaders')?.split(';') ?? [];
  const out: Record<string, string> = {};
  for (const name of signed) {
    if (name === 'host') continue;
    const value = known[name];
    if (value === undefined) throw new InternalError(`presigned URL signs header '${name}' that dstack does not send`);
    out[name] = value;
  }
  return out;
}
