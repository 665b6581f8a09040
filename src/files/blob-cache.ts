/**
 * Small blobs kept in memory by digest, the least recently used dropped first, within a byte
 * budget: a runner writes the same code files (and often the same small artifacts of a shared
 * dependency) into every job's workspace of a run, and asking the server for them each time
 * was a round trip and a read of the blob store per job. Only verified content goes in (the
 * download hashes every blob before it is written or kept).
 */
export class BlobCache {
  private readonly blobs = new Map<string, Buffer>();
  private bytes = 0;

  constructor(
    /** The most bytes kept. */
    readonly budget: number,
    /** A blob bigger than this is never kept (it would push out many small ones). */
    private readonly largest = Math.floor(budget / 16),
  ) {}

  get(digest: string): Buffer | undefined {
    const data = this.blobs.get(digest);
    if (data !== undefined) {
      this.blobs.delete(digest); // to the back: the most recently used
      this.blobs.set(digest, data);
    }
    return data;
  }

  /** Keep `data` (verified to hash to `digest`), as a copy: it may be a view of a much larger chunk. */
  set(digest: string, data: Uint8Array): void {
    if (data.length > this.largest || this.blobs.has(digest)) return;
    for (const [oldest, old] of this.blobs) {
      if (this.bytes + data.length <= this.budget) break;
      this.blobs.delete(oldest);
      this.bytes -= old.length;
    }
    this.blobs.set(digest, Buffer.from(data));
    this.bytes += data.length;
  }

  get size(): { blobs: number; bytes: number } {
    return { blobs: this.blobs.size, bytes: this.bytes };
  }
}
