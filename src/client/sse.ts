/** A minimal Server-Sent Events reader over a response body. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

const DATA = Buffer.from('\ndata: ');
const ID = Buffer.from('\nid: ');
const EVENT = Buffer.from('event: ');
const BLANK_LINE = Buffer.from('\n\n');

/**
 * An event block as bytes. The usual shape (`event`, one `data` line, `id`: a megabyte of log
 * lines) has its data decoded once, straight from the bytes, with no scan of it as a string;
 * other shapes go through the general reader.
 */
function parseBytes(block: Buffer): SseEvent | undefined {
  const dataAt = block.indexOf(DATA);
  if (dataAt > 0 && block.subarray(0, EVENT.length).equals(EVENT) && block.indexOf(0x0a) === dataAt) {
    const idAt = block.indexOf(0x0a, dataAt + 1);
    if (idAt > 0 && block.indexOf(ID, idAt) === idAt && block.indexOf(0x0a, idAt + 1) < 0) {
      return {
        event: block.toString('utf8', EVENT.length, dataAt),
        data: block.toString('utf8', dataAt + DATA.length, idAt),
        id: block.toString('utf8', idAt + ID.length),
      };
    }
  }
  return parseBlock(block.toString('utf8'));
}

function parseBlock(block: string): SseEvent | undefined {
  const event: SseEvent = { event: 'message', data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    // One slice (no regex over a megabyte of data): the space after the colon is not part of the value.
    const value = colon < 0 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    if (field === 'event') event.event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') event.id = value;
  }
  if (data.length === 0 && event.event === 'message') return undefined;
  event.data = data.join('\n');
  return event;
}

export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  // Bytes, not text: an event of megabytes arrives in many chunks; only each new chunk is
  // searched for the blank line that ends it, the pieces are joined once when it has ended,
  // and decoded once (a character split across chunks is whole by then).
  let pieces: Buffer[] = [];
  let endsWithNewline = false;
  for await (const raw of body) {
    let chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    while (chunk.length > 0) {
      let block: Buffer;
      if (endsWithNewline && chunk[0] === 0x0a) {
        const joined = Buffer.concat(pieces);
        block = joined.subarray(0, joined.length - 1); // the blank line straddles two chunks
        chunk = chunk.subarray(1);
      } else {
        const end = chunk.indexOf(BLANK_LINE);
        if (end < 0) {
          pieces.push(chunk);
          endsWithNewline = chunk[chunk.length - 1] === 0x0a;
          break;
        }
        block = pieces.length > 0 ? Buffer.concat([...pieces, chunk.subarray(0, end)]) : chunk.subarray(0, end);
        chunk = chunk.subarray(end + 2);
      }
      pieces = [];
      endsWithNewline = false;
      const event = parseBytes(block);
      if (event) yield event;
    }
  }
}
