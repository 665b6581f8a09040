import { describe, expect, it } from 'vitest';
import { readSse, type SseEvent } from '../../src/client/sse.js';

/** A body that arrives in the given pieces. */
function body(pieces: string[]): AsyncIterable<Uint8Array> {
  const encoder = new TextEncoder();
  return (async function* () {
    for (const p of pieces) yield encoder.encode(p);
  })();
}

async function events(pieces: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of readSse(body(pieces))) out.push(e);
  return out;
}

describe('readSse', () => {
  const stream = 'event: log\ndata: [1,2]\nid: a:1\n\n: keepalive\n\nevent: end\ndata: {}\n\n';
  const expected = [
    { event: 'log', data: '[1,2]', id: 'a:1' },
    { event: 'end', data: '{}' },
  ];

  it('reads events however the stream is cut into chunks, blank lines across chunks included', async () => {
    expect(await events([stream])).toEqual(expected);
    for (let size = 1; size < stream.length; size++) {
      const pieces: string[] = [];
      for (let i = 0; i < stream.length; i += size) pieces.push(stream.slice(i, i + size));
      expect(await events(pieces)).toEqual(expected);
    }
  });

  it('reads an event of many megabytes in many chunks', async () => {
    const data = 'x'.repeat(4 << 20);
    const text = `event: log\ndata: ${data}\n\n`;
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 65536) pieces.push(text.slice(i, i + 65536));
    const got = await events(pieces);
    expect(got).toHaveLength(1);
    expect(got[0]!.data.length).toBe(data.length);
  });

  it('decodes a character split across chunks whole, in the usual event and the others', async () => {
    const text = 'event: log\ndata: ["λ🚀"]\nid: j:1\n\nevent: log\ndata: é\ndata: ü\n\n';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const body = (async function* () {
        yield bytes.subarray(0, cut);
        yield bytes.subarray(cut);
      })();
      const out: SseEvent[] = [];
      for await (const e of readSse(body)) out.push(e);
      expect(out).toEqual([
        { event: 'log', data: '["λ🚀"]', id: 'j:1' },
        { event: 'log', data: 'é\nü' },
      ]);
    }
  });

  it('reads the usual event, one data line between event and id, and the other shapes alike', async () => {
    const text = [
      'event: log\ndata:  two spaces: one is kept\nid: j:2',
      'event: log\ndata: first\ndata: second\nid: j:3',
      'id: j:4\nevent: log\ndata: id first',
      'event: log\ndata: no id',
    ].join('\n\n');
    expect(await events([text + '\n\n'])).toEqual([
      { event: 'log', data: ' two spaces: one is kept', id: 'j:2' },
      { event: 'log', data: 'first\nsecond', id: 'j:3' },
      { event: 'log', data: 'id first', id: 'j:4' },
      { event: 'log', data: 'no id' },
    ]);
  });
});
