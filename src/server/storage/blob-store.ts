/**
 * Content-addressed blob storage: every file of a code snapshot or an artifact is stored
 * once, under the sha256 of its content. Local disk is the default, S3 the other backend;
 * one conformance suite (test/storage/blob-store-conformance.ts) runs against both.
 */
import type { Readable } from 'node:stream';
import type { DirectRequest } from '../../core/blob-api.js';

export type { DirectRequest };
export { DIGEST } from '../../files/blob-path.js';

/** What a store has moved since it was opened; tests and benchmarks read these. */
export interface BlobStoreStats {
  /** Blobs and bytes stored through `put` (a blob already stored counts once, when first written). */
  blobsWritten: number;
  bytesWritten: number;
  /**
   * Of those, blobs stored without hashing them again: `putMany` with `hashedHere`, bytes
   * this very process read and hashed (the embedded runner's packs; files/hashed-here.ts).
   */
  blobsHashedHere: number;
  /** Blobs and bytes served through `get`. */
  blobsRead: number;
  bytesRead: number;
  /** Presigned uploads issued, with the sizes the uploader declared (signed: it cannot send more). */
  presignedPuts: number;
  presignedPutBytes: number;
  /** Presigned downloads issued. */
  presignedGets: number;
}

/**
 * A store whose clients can move blobs straight to and from the storage service
 * (S3's presigned URLs), so that the server is not in the data path.
 */
export interface DirectAccess {
  /**
   * A single PUT of exactly `size` bytes that stores the blob `digest`. Where the service
   * checks content checksums (AWS S3 does) a body that does not hash to `digest` is refused.
   * Undefined when this size cannot go in one request (S3: over 5 GiB).
   */
  presignPut(digest: string, size: number): Promise<DirectRequest | undefined>;
  /** A GET of the blob, valid for a while (S3: an hour). */
  presignGet(digest: string): Promise<DirectRequest>;
}

/** A blob's content in memory, for `putMany`. */
export interface BlobBytes {
  digest: string;
  /** The content's chunks, one after another, as read. */
  parts: readonly Buffer[];
  /**
   * The caller has established that this process itself computed `digest` from exactly
   * these bytes (`hashedHere` of files/hashed-here.ts), so they are not hashed again.
   */
  hashedHere?: boolean;
}

export interface BlobStore {
  /** The digests of `digests` that are not stored yet, each once. */
  missing(digests: readonly string[]): Promise<string[]>;
  /**
   * Store a blob. The content is hashed while it is written and must match `digest`
   * (InvalidError otherwise, and nothing is stored); the blob becomes visible only once
   * complete, so an interrupted put leaves nothing a reader could see.
   */
  put(digest: string, content: Readable): Promise<void>;
  /**
   * `put` of many blobs whose content is in memory (a pack's entries), where the store can
   * do it cheaper than through streams: the same checks and atomicity, each blob stored or
   * refused on its own. The outcome per blob, in order: undefined when stored, or its error.
   */
  putMany?(blobs: readonly BlobBytes[]): Promise<(Error | undefined)[]>;
  /** `get` of a blob of at most `max` bytes into memory (InvalidError when bigger), where cheaper than a stream. */
  getBytes?(digest: string, max: number): Promise<Buffer>;
  /** The blob's content; NotFoundError when absent. */
  get(digest: string): Promise<Readable>;
  /** Bytes stored per blob; undefined when absent. */
  size(digest: string): Promise<number | undefined>;
  /** Every stored blob with its size and when it was stored (epoch ms). */
  list(): AsyncIterable<{ digest: string; size: number; storedAt: number }>;
  delete(digest: string): Promise<void>;
  /**
   * Delete what puts that never finished left behind (a crashed process's temp files), last
   * written before `before` (epoch ms): a put under way writes its temp file as it goes.
   * Absent where the service keeps no such leftovers.
   */
  removeLeftovers?(before: number): Promise<{ files: number; bytes: number }>;
  /** Counters since the store was opened. */
  stats(): BlobStoreStats;
  /** Present when clients can reach the storage service directly. */
  readonly direct?: DirectAccess;
  /** Release connections; the store is unusable afterwards. */
  close?(): Promise<void>;
}

export function emptyStats(): BlobStoreStats {
  return {
    blobsWritten: 0,
    bytesWritten: 0,
    blobsHashedHere: 0,
    blobsRead: 0,
    bytesRead: 0,
    presignedPuts: 0,
    presignedPutBytes: 0,
    presignedGets: 0,
  };
}
