/**
 * Reading records out of bytes as they arrive. A record is `#`, a JSON head, a newline, a
 * body whose length the head gives, and a newline: a log batch (log-batch.ts: a runner's
 * request, its spool, the server's log file) or a frame of a reader's log stream
 * (log-frames.ts). Lines that do not start with `#` may sit between records: the JSON lines
 * of logs and spools written before batches, a stream's keep-alive. Chunks are joined only
 * once a whole record is there, so a megabyte record costs one copy, not one per chunk.
 */

/** What a head says: the head itself and its body's length in bytes (the final newline not counted). */
export type ReadHead<H> = (json: unknown) => { head: H; bodyLength: number } | undefined;

export type Item<H> =
  | { kind: 'record'; head: H; body: Buffer }
  /** A line that is not a record (without its newline). */
  | { kind: 'line'; line: Buffer }
  /** A `#` line that is no head, or a body without its final newline: what follows cannot be trusted. */
  | { kind: 'bad'; reason: string };

const HASH = 0x23;
const NEWLINE = 0x0a;

export class RecordReader<H> {
  private chunks: Buffer[] = [];
  private length = 0;
  /** Bytes at the front known to hold no newline. */
  private searched = 0;
  /** The head of the record at the front, once read, and the bytes its body needs (with its newline). */
  private pending: { head: H; need: number } | undefined;
  /** Bytes taken by the items returned so far, plus the start: the offset just past the last one. */
  private consumed: number;

  constructor(
    private readonly readHead: ReadHead<H>,
    start = 0,
  ) {
    this.consumed = start;
  }

  /** The offset just past the last item returned (the start given, plus what was read). */
  get offset(): number {
    return this.consumed;
  }

  /** Bytes given but not yet returned as items: at the end of the input, a torn tail. */
  get buffered(): number {
    return this.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The next whole item, or undefined until more bytes arrive. */
  next(): Item<H> | undefined {
    if (!this.pending) {
      const nl = this.indexOfNewline();
      if (nl < 0) return undefined;
      const line = this.take(nl + 1).subarray(0, nl);
      if (line[0] !== HASH) return { kind: 'line', line };
      let json: unknown;
      try {
        json = JSON.parse(line.toString('utf8', 1));
      } catch {
        return { kind: 'bad', reason: 'a record head is not valid JSON' };
      }
      const read = this.readHead(json);
      if (!read) return { kind: 'bad', reason: 'a record head is not one' };
      this.pending = { head: read.head, need: read.bodyLength + 1 };
    }
    const { head, need } = this.pending;
    if (this.length < need) return undefined;
    this.pending = undefined;
    const body = this.take(need);
    if (body[need - 1] !== NEWLINE) return { kind: 'bad', reason: 'a record body does not end where its head says' };
    return { kind: 'record', head, body: body.subarray(0, need - 1) };
  }

  /** The first `n` bytes, as one buffer (sharing the chunk when they lie in one). */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.length);
      out = all.subarray(0, n);
      this.chunks = n < all.length ? [all.subarray(n)] : [];
    }
    this.length -= n;
    this.consumed += n;
    this.searched = 0;
    return out;
  }

  /** The first newline's position in the buffered bytes, or -1 (searching each byte once). */
  private indexOfNewline(): number {
    let base = 0;
    for (const chunk of this.chunks) {
      if (base + chunk.length > this.searched) {
        const nl = chunk.indexOf(NEWLINE, Math.max(0, this.searched - base));
        if (nl >= 0) return base + nl;
      }
      base += chunk.length;
    }
    this.searched = this.length;
    return -1;
  }
}
