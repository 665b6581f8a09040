import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

  it('hands each entry to the sender with its exact output bytes, live and when re-sent from the spool', async () => {
    const spool = join(dir, 'bytes', 'log-spool.jsonl');
    const pairs: [LogEntry, Buffer | undefined][] = [];
    const send = async (batch: LogEntry[], bytes?: readonly Buffer[]) =>
      void batch.forEach((e, i) => pairs.push([{ ...e }, bytes?.[i] && Buffer.from(bytes[i])]));
    const write = (shipper: LogShipper) => {
      shipper.write('stdout', Buffer.from('a λ\nb\n' + 'z'.repeat(MAX_LINE + 3) + '\nhalf'));
      shipper.write('stderr', Buffer.from([0x50, 0xff, 0x0a]));
      shipper.note('note');
    };
    const live = new LogShipper(send, 0, 5, () => {}, spool);
    write(live);
    await live.close();
    const resent = await crashed(spool, write);
    await resendSpool(spool, send);
    expect(pairs.length).toBe(2 * resent.length);
    for (const [entry, bytes] of pairs) {
      expect(bytes?.equals(entry.raw ? Buffer.from(entry.raw, 'base64') : Buffer.from(entry.text))).toBe(true);
    }
  });
});

describe('LogShipper grouping the lines of one read', () => {
  it('sends the whole lines read at one time as one entry of lines joined by newlines', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10);
    shipper.write('stdout', Buffer.from('one\n\nthree λ\nfour\r\nfi'));
    shipper.write('stdout', Buffer.from('ve\n'));
    await shipper.close();
    expect(sent.map((e) => [e.seq, e.text, e.partial ?? false])).toEqual([
      [1, 'one\n\nthree λ\nfour\r', false],
      [2, 'five', false],
    ]);
  });

  it('cuts a read of many lines at line ends into entries of at most MAX_LINE bytes', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10);
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}`);
    const chunk = Buffer.from(lines.join('\n') + '\n');
    shipper.write('stdout', chunk);
    await shipper.close();
    expect(sent.length).toBeGreaterThan(2);
    expect(sent.every((e) => !e.partial && Buffer.byteLength(e.text) <= MAX_LINE)).toBe(true);
    expect(sent.flatMap((e) => e.text.split('\n'))).toEqual(lines);
    expect(bytesOf(sent).equals(chunk)).toBe(true);
  });

  it('sends a line longer than MAX_LINE among short ones as partial pieces, the short ones grouped', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10);
    const long = 'y'.repeat(MAX_LINE * 2 + 10);
    const chunk = Buffer.from(`a\nb\n${long}\nc\nd\n`);
    shipper.write('stdout', chunk);
    await shipper.close();
    expect(sent[0]).toMatchObject({ text: 'a\nb' });
    expect(sent.slice(1, 3).every((e) => e.partial && e.text.length === MAX_LINE)).toBe(true);
    expect(sent.slice(3).map((e) => [e.text, e.partial ?? false])).toEqual([
      ['y'.repeat(10), false],
      ['c\nd', false],
    ]);
    expect(bytesOf(sent).equals(chunk)).toBe(true);
  });
});

/** A shipper whose server is down: everything it queues stays in its spool, as a crash leaves it. */
async function crashed(spool: string, write: (shipper: LogShipper) => void): Promise<LogEntry[]> {
  const queued: LogEntry[] = [];
  const shipper = new LogShipper(
    async (batch) => {
      queued.splice(0, queued.length, ...batch.map((e) => ({ ...e })));
      throw new Error('server unreachable');
    },
    0,
    5,
    () => {},
    spool,
  );
  write(shipper);
  await expect(shipper.close(0)).rejects.toThrow('server unreachable');
  return queued;
}

describe('resendSpool', () => {
  it('sends entries of several lines, partial, binary and dstack notes exactly as they were queued', async () => {
    const spool = join(dir, 'kinds', 'log-spool.jsonl');
    const binary = Buffer.from([0x50, 0xff, 0x00, 0x0a, 0xc3, 0x28, 0x0a]);
    const queued = await crashed(spool, (shipper) => {
      shipper.write('stdout', Buffer.from('one\ntwo "quoted" \\ λ 🚀\n\nfour\r\nhalf'));
      shipper.note('downloading λ');
      shipper.write('stderr', binary);
      shipper.write('stdout', Buffer.from('ed\n' + 'z'.repeat(MAX_LINE + 5) + '\n'));
    });
    expect(queued.length).toBeGreaterThan(5);
    const { sent, send } = collector();
    await resendSpool(spool, send);
    expect(sent).toEqual(queued);
    expect(bytesOf(sent.filter((e) => e.stream === 'stderr' && !e.text.startsWith('[dstack]'))).equals(binary)).toBe(
      true,
    );
    await expect(stat(spool)).rejects.toThrow('ENOENT');
  });

  it('skips a record torn by a crash, in its header or its bytes, and reads older JSON records beside new ones', async () => {
    const spool = join(dir, 'torn', 'log-spool.jsonl');
    const first = await crashed(spool, (shipper) => shipper.write('stdout', Buffer.from('a\nb\n')));
    const whole = (await stat(spool)).size;
    // A second runner's attempt appends one more record, torn by a crash partway through its bytes.
    const more = new LogShipper(
      async () => Promise.reject(new Error('down')),
      1,
      5,
      () => {},
      spool,
    );
    more.write('stdout', Buffer.from('c\nd\n'));
    await expect(more.close(0)).rejects.toThrow('down');
    const full = await readFile(spool);
    for (const cut of [whole + 3, full.length - 2]) {
      await writeFile(spool, full.subarray(0, cut));
      const { sent, send } = collector();
      await resendSpool(spool, send);
      expect(sent).toEqual(first);
    }
    // Older runners wrote JSON lines; a spool may hold both.
    const old: LogEntry = { seq: 0, ts: 5, stream: 'stdout', text: 'older' };
    await writeFile(spool, JSON.stringify([old]) + '\n');
    await appendFile(spool, full);
    const { sent, send } = collector();
    await resendSpool(spool, send);
    expect(sent.map((e) => e.text)).toEqual(['older', 'a\nb', 'c\nd']);
  });

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
