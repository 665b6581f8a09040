import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/core/records.js';
import { LogShipper, MAX_LINE, resendSpool } from '../../src/runner/log-shipper.js';

const dir = await mkdtemp(join(tmpdir(), 'dstack-shipper-lines-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function collector() {
  const sent: LogEntry[] = [];
  return { sent, send: async (batch: LogEntry[]) => void sent.push(...batch.map((e) => ({ ...e }))) };
}

const bytesOf = (entries: LogEntry[]) =>
  Buffer.concat(
    entries.flatMap((e) => [
      e.raw ? Buffer.from(e.raw, 'base64') : Buffer.from(e.text),
      Buffer.from(e.partial ? '' : '\n'),
    ]),
  );

describe('LogShipper splitting many lines of one chunk', () => {
  it('marks only the line with bytes that are not UTF-8 as raw', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10);
    const chunk = Buffer.concat([Buffer.from('ok λ\n'), Buffer.from([0xff, 0x41]), Buffer.from('\nfine\r\n\n')]);
    shipper.write('stdout', chunk);
    await shipper.close();
    expect(sent.map((e) => [e.text, e.raw !== undefined])).toEqual([
      ['ok λ', false],
      ['\ufffdA', true],
      ['fine\r', false],
      ['', false],
    ]);
    expect(bytesOf(sent).equals(chunk)).toBe(true);
  });

  it('cuts a long line of multi-byte text that arrived with others at character boundaries', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10);
    const long = 'é'.repeat(MAX_LINE); // 2 bytes each: twice MAX_LINE bytes
    const chunk = Buffer.from(`short\n${long}\nend\n`);
    shipper.write('stdout', chunk);
    await shipper.close();
    expect(sent[0]!.text).toBe('short');
    expect(sent.at(-1)!.text).toBe('end');
    const pieces = sent.slice(1, -1);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((e) => Buffer.byteLength(e.text) <= MAX_LINE && e.raw === undefined)).toBe(true);
    expect(pieces.map((e) => e.text).join('')).toBe(long);
    expect(bytesOf(sent).equals(chunk)).toBe(true);
  });
});

describe('resendSpool', () => {
  it('reads appends written as arrays and single entries of older spools, skipping a torn last line', async () => {
    const spool = join(dir, 'mixed.jsonl');
    const entry = (seq: number): LogEntry => ({ seq, ts: seq, stream: 'stdout', text: `line ${seq}` });
    await writeFile(
      spool,
      `${JSON.stringify(entry(1))}\n${JSON.stringify([entry(2), entry(3)])}\n${JSON.stringify([entry(4)]).slice(0, 9)}`,
    );
    const { sent, send } = collector();
    await resendSpool(spool, send);
    expect(sent.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
