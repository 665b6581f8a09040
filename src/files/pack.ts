/**
 * Packs: many small blobs in one request, as a plain tar stream (`tar tf` reads it) of
 * entries named by their sha256 digest. Entries are read and written one at a time, so
 * memory holds at most one entry, whatever the pack's length.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Header } from 'tar/header'; // the header alone: the whole package costs a CLI call ~20 ms more
import { forEachLimit } from '../core/concurrency.js';
import { InvalidError } from '../core/errors.js';

/** No entry of a pack may be bigger than this (16 MiB): packs are for small files. */
export const MAX_PACK_ENTRY = 16 << 20;

/** Tar's block: headers are one, contents are padded to whole blocks. */
export const BLOCK = 512;

/** What may follow a pack's first end-of-archive block: the second, and tar's padding to a 10 KiB record. */
const TRAILER_LIMIT = 64 << 10;

/**
 * The name of the entry a server writes, in place of the rest of a pack, when it fails
 * after the response has started (a blob vanished, its storage unreachable): its content is
 * the error answer it would have given, `{"status":503,"error":{"code","message"}}` (plain
 * text, the message alone, from servers before it).
 */
export const PACK_ERROR = '.dstack-error';

export interface PackEntry {
  name: string;
  data: Buffer;
}

/** The tar header of a pack entry. */
export function entryHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  new Header({ path: name, mode: 0o644, size, type: 'File', mtime: new Date(0), uid: 0, gid: 0 }).encode(block, 0);
  return block;
}

/** Bytes of padding after an entry of `size` bytes. */
export const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

async function* packBlocks(entries: AsyncIterable<PackEntry> | Iterable<PackEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    yield entryHeader(entry.name, entry.data.length);
    yield entry.data;
    const pad = padding(entry.data.length);
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(2 * BLOCK); // end of archive
}

/** A tar stream of `entries`, pulled one entry at a time as the reader wants them. */
export function writePack(entries: AsyncIterable<PackEntry> | Iterable<PackEntry>): Readable {
  return Readable.from(packBlocks(entries), { objectMode: false });
}

/**
 * `writePack` as a web stream (a response body). Its chunks go on as views of the entries'
 * memory: `Readable.toWeb` of a byte stream copies every Buffer chunk, a gigabyte of
 * restored artifacts copied once more for nothing.
 */
export function writePackWeb(entries: AsyncIterable<PackEntry> | Iterable<PackEntry>): ReadableStream<Uint8Array> {
  const blocks = packBlocks(entries);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await blocks.next();
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length));
    },
    async cancel() {
      await blocks.return(undefined);
    },
  });
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

  /**
   * `n` bytes as views of the stream's chunks, in order, none copied; fewer only when the
   * stream ended first. Entries are handed on like this: copying each one that straddles two
   * chunks doubled the bytes allocated, and with them the collections that external memory starts.
   */
  async takeParts(n: number): Promise<Buffer[]> {
    while (this.length < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.chunks.push(next.value);
        this.length += next.value.length;
      }
    }
    const parts: Buffer[] = [];
    let want = Math.min(n, this.length);
    let used = 0;
    while (want > 0) {
      const chunk = this.chunks[used]!;
      if (chunk.length > want) {
        parts.push(chunk.subarray(0, want));
        this.chunks[used] = chunk.subarray(want);
        this.length -= want;
        break;
      }
      parts.push(chunk);
      used++;
      want -= chunk.length;
      this.length -= chunk.length;
    }
    if (used > 0) this.chunks = this.chunks.slice(used);
    return parts;
  }

  /** `n` bytes in one buffer (a header): a view when within one chunk, else a copy. */
  async take(n: number): Promise<Buffer> {
    return joinParts(await this.takeParts(n));
  }

  /** Read to the stream's end, failing once more than `limit` bytes are left: what follows a pack's end is padding. */
  async finish(limit: number, what: string): Promise<void> {
    while (!this.done) {
      if (this.length > limit) throw new InvalidError(what);
      const next = await this.source.next();
      if (next.done) this.done = true;
      else this.length += next.value.length;
    }
    if (this.length > limit) throw new InvalidError(what);
    this.chunks = [];
    this.length = 0;
  }
}

/** An entry as read from a pack: its content as views of the stream's chunks (`joinParts` for one buffer). */
export interface PackRead {
  name: string;
  size: number;
  parts: Buffer[];
}

/** `parts` as one buffer: the part itself when there is one, else a copy. */
export const joinParts = (parts: readonly Buffer[]): Buffer => (parts.length === 1 ? parts[0]! : Buffer.concat(parts));

/**
 * The entries of a tar stream, in order. InvalidError for anything but plain files no
 * bigger than `maxEntry`, a damaged header, or a stream that ends inside an entry.
 */
export async function* readPack(stream: AsyncIterable<Buffer>, maxEntry = MAX_PACK_ENTRY): AsyncGenerator<PackRead> {
  const source = stream[Symbol.asyncIterator]();
  const reader = new ByteReader(source);
  try {
    for (;;) {
      const block = await reader.take(BLOCK);
      if (block.length < BLOCK) throw new InvalidError('pack ends without its end-of-archive blocks (cut off?)');
      const h = new Header(block);
      if (h.nullBlock) {
        // Read to the end: a request body left unread past here is one the HTTP server gives up
        // on, closing its kept-alive connection under whatever response goes over it next.
        await reader.finish(TRAILER_LIMIT, `pack goes on for more than ${TRAILER_LIMIT} bytes after its end`);
        return;
      }
      if (!h.cksumValid) throw new InvalidError('pack has a damaged entry header');
      if (h.type !== 'File' || !h.path) throw new InvalidError(`pack entry '${h.path}' is not a plain file`);
      const size = h.size ?? 0;
      if (size > maxEntry)
        throw new InvalidError(`pack entry '${h.path}' is ${size} bytes; at most ${maxEntry} fit a pack`);
      const parts = await reader.takeParts(size);
      if (parts.reduce((n, p) => n + p.length, 0) < size) throw new InvalidError(`pack entry '${h.path}' is cut off`);
      // Views of the stream's chunks, not copies (a gigabyte of artifacts would be copied once
      // more): readers store or write each entry and drop it, so only entries in flight hold chunks.
      const entry = { name: h.path, size, parts };
      await reader.take(padding(size));
      yield entry;
    }
  } finally {
    // Stopped early (an error, or the caller stopped): the source lets go of its stream. A
    // request body read as `body.iterator({ destroyOnReturn: false })` stays whole, so the
    // server can still drain it and answer; any other stream (a response) is destroyed.
    await source.return?.();
  }
}

export interface PackFile {
  /** The entry's name (a digest). */
  name: string;
  /** The file to read it from, exactly `size` bytes. */
  path: string;
  size: number;
}

/**
 * A whole pack of `files` in one buffer, each file read straight into its place: no buffer
 * per file, no copy, and one chunk for the request body. The caller bounds its size (packs
 * of PACK_BYTES). A file that is shorter than `size` now is an error; content changed since
 * it was hashed is caught by the receiver, which checks every entry against its name.
 */
export async function buildPack(
  files: readonly PackFile[],
  onFile: (size: number) => void = () => {},
  concurrency = 8,
): Promise<Buffer> {
  const offsets: number[] = [];
  let total = 0;
  for (const f of files) {
    offsets.push(total);
    total += BLOCK + f.size + padding(f.size);
  }
  const out = Buffer.allocUnsafe(total + 2 * BLOCK);
  out.fill(0, total); // end of archive
  await forEachLimit(files.keys(), concurrency, async (i) => {
    const f = files[i]!;
    const at = offsets[i]!;
    out.fill(0, at, at + BLOCK);
    new Header({ path: f.name, mode: 0o644, size: f.size, type: 'File', mtime: new Date(0), uid: 0, gid: 0 }).encode(
      out,
      at,
    );
    const handle = await open(f.path, 'r');
    try {
      let got = 0;
      while (got < f.size) {
        const { bytesRead } = await handle.read(out, at + BLOCK + got, f.size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got < f.size) throw new InvalidError(`${f.path} shrank while it was being sent (${got} of ${f.size} bytes)`);
    } finally {
      await handle.close();
    }
    out.fill(0, at + BLOCK + f.size, at + BLOCK + f.size + padding(f.size));
    onFile(f.size);
  });
  return out;
}
