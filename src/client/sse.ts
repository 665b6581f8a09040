/** A minimal Server-Sent Events reader over a response body. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

function parseBlock(block: string): SseEvent | undefined {
  // The usual shape, `event`, one `data` line, `id`: a megabyte of log lines is sliced out once,
  // not split into lines and joined again.
  const dataAt = block.indexOf('\ndata: ');
  const idAt = block.indexOf('\nid: ', dataAt + 1);
  if (block.startsWith('event: ') && dataAt > 0 && idAt > 0 && block.lastIndexOf('\n', idAt - 1) === dataAt) {
    const id = block.slice(idAt + 5);
    if (!id.includes('\n') && !block.slice(0, dataAt).includes('\n')) {
      return { event: block.slice(7, dataAt), data: block.slice(dataAt + 7, idAt), id };
    }
  }
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
  const decoder = new TextDecoder();
  // An event of megabytes arrives in many chunks: only each new chunk is searched for the
  // blank line that ends it, and the pieces are joined once, when it has ended.
  let pieces: string[] = [];
  let endsWithNewline = false;
  for await (const chunk of body) {
    let text = decoder.decode(chunk, { stream: true });
    while (text.length > 0) {
      let block: string;
      if (endsWithNewline && text.startsWith('\n')) {
        block = pieces.join('').slice(0, -1); // the blank line straddles two chunks
        text = text.slice(1);
      } else {
        const end = text.indexOf('\n\n');
        if (end < 0) {
          pieces.push(text);
          endsWithNewline = text.endsWith('\n');
          break;
        }
        block = pieces.join('') + text.slice(0, end);
        text = text.slice(end + 2);
      }
      pieces = [];
      endsWithNewline = false;
      const event = parseBlock(block);
      if (event) yield event;
    }
  }
}
