/**
 * Content-addressed blob storage: every file of a code snapshot or an artifact is stored
 * once, under the sha256 of its content. Local disk is the default; S3 comes later.
 */
import type { Readable } from 'node:stream';

export const DIGEST = /^[0-9a-f]{64}$/;

export interface BlobStore {
  /** The digests of `digests` that are not stored yet. */
  missing(digests: readonly string[]): Promise<string[]>;
  /**
   * Store a blob. The content is hashed while it is written and must match `digest`
   * (InvalidError otherwise); the blob becomes visible only once complete.
   */
  put(digest: string, content: Readable): Promise<void>;
  /** The blob's content; NotFoundError when absent. */
  get(digest: string): Promise<Readable>;
  /** Bytes stored per blob, for totals and housekeeping. */
  size(digest: string): Promise<number | undefined>;
  /** Every stored blob with its size and when it was stored (epoch ms). */
  list(): AsyncIterable<{ digest: string; size: number; storedAt: number }>;
  delete(digest: string): Promise<void>;
}
