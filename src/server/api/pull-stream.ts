/**
 * A response body pulled from an async generator: a chunk is made only when the client has
 * taken the one before (@hono/node-server waits for the socket's `drain`), so a download of a
 * log or archive of any size holds a chunk or two in the server's memory, never the whole.
 */
export function pulledStream(chunks: AsyncGenerator<Buffer>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      // A view, not a copy: Readable.toWeb would copy every chunk.
      else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length));
    },
    async cancel() {
      await chunks.return(undefined); // the client went away: close what the generator holds open
    },
  });
}

/**
 * `pieces` gathered into chunks of about `size` bytes: a log of many short entries sent as a
 * write per entry spent more time in the stream than in reading the log.
 */
export async function* gathered(pieces: AsyncIterable<Buffer>, size = 64 << 10): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let bytes = 0;
  for await (const piece of pieces) {
    if (piece.length >= size && held.length === 0) {
      yield piece;
      continue;
    }
    held.push(piece);
    bytes += piece.length;
    if (bytes >= size) {
      yield Buffer.concat(held, bytes);
      held = [];
      bytes = 0;
    }
  }
  if (bytes > 0) yield Buffer.concat(held, bytes);
}

/** A `content-disposition` that saves as `name` (ASCII letters, digits, `.-_` only: nothing to escape). */
export function attachment(name: string): string {
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}
