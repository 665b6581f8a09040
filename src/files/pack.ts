/**
 * Packs: many small blobs in one request, as a plain tar stream (`tar tf` reads it) of
 * entries named by their sha256 digest. Entries are read and written one at a time, so
 * memory holds at most one entry, whatever the pack's length.
 */
import { Readable } from 'node:stream';
import { Header } from 'tar';
import { InvalidError } from '../core/errors.js';

/** No entry of a pack may be bigger than this (16 MiB): packs are for small files. */
export const MAX_PACK_ENTRY = 16 << 20;

const BLOCK = 512;

/**
 * The name of the entry a server writes, in place of the rest of a pack, when it fails
 * after the response has started (a blob vanished): its content is the error message.
 */
export const PACK_ERROR = '.dstack-error';

export interface PackEntry {
  name: string;
  data: Buffer;
}

function header(name: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  new Header({ path: name, mode: 0o644, size, type: 'File', mtime: new Date(0), uid: 0, gid: 0 }).encode(block, 0);
  return block;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** A tar stream of `entries`, pulled one entry at a time as the reader wants them. */
export function writePack(entries: AsyncIterable<PackEntry> | Iterable<PackEntry>): Readable {
  async function* blocks() {
    for await (const entry of entries) {
      yield header(entry.name, entry.data.length);
      yield entry.data;
      const pad = padding(entry.data.length);
      if (pad.length > 0) yield pad;
    }
    yield Buffer.alloc(2 * BLOCK); // end of archive
  }
  return Readable.from(blocks(), { objectMode: false });
}

/** Read a stream into memory, refusing one longer than `max` bytes before it is all read. */
export async function readLimited(stream: AsyncIterable<Buffer>, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > max) throw new InvalidError(`${what} is over ${max} bytes, too big for a pack`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads exactly the bytes asked for from a stream of chunks. */
class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** `n` bytes, or fewer only when the stream ended first. */
  async take(n: number): Promise<Buffer> {
    while (this.length < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.chunks.push(next.value);
        this.length += next.value.length;
      }
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }
}

/**
 * The entries of a tar stream, in order. InvalidError for anything but plain files no
 * bigger than `maxEntry`, a damaged header, or a stream that ends inside an entry.
 */
export async function* readPack(stream: AsyncIterable<Buffer>, maxEntry = MAX_PACK_ENTRY): AsyncGenerator<PackEntry> {
  const reader = new ByteReader(stream[Symbol.asyncIterator]());
  for (;;) {
    const block = await reader.take(BLOCK);
    if (block.length < BLOCK) throw new InvalidError('pack ends without its end-of-archive blocks (cut off?)');
    const h = new Header(block);
    if (h.nullBlock) return;
    if (!h.cksumValid) throw new InvalidError('pack has a damaged entry header');
    if (h.type !== 'File' || !h.path) throw new InvalidError(`pack entry '${h.path}' is not a plain file`);
    const size = h.size ?? 0;
    if (size > maxEntry)
      throw new InvalidError(`pack entry '${h.path}' is ${size} bytes; at most ${maxEntry} fit a pack`);
    const data = await reader.take(size);
    if (data.length < size) throw new InvalidError(`pack entry '${h.path}' is cut off`);
    // Copy out of the shared chunk: the entry outlives the reader's buffer.
    const entry = { name: h.path, data: Buffer.from(data) };
    await reader.take(padding(size).length);
    yield entry;
  }
}
