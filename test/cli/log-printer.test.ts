import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogPrinter, sharedOutput } from '../../src/cli/log-printer.js';
import type { OutputLine } from '../../src/core/log-frames.js';
import type { JobRecord } from '../../src/core/records.js';

function capture() {
  const written: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  const out = (name: 'stdout' | 'stderr') => ({
    write: (data: string | Uint8Array) => written[name].push(Buffer.from(data)) > 0,
  });
  return { printer: new LogPrinter({ stdout: out('stdout'), stderr: out('stderr') }), written };
}

const line = (jobId: string, seq: number, text: string | Buffer, extra: Partial<OutputLine> = {}): OutputLine => ({
  jobId,
  seq,
  ts: seq,
  stream: 'stdout',
  bytes: Buffer.from(text),
  ...extra,
});
const job = (id: string, ref: string) => ({ id, ref }) as JobRecord;

/** What was written, without colour codes (the prefixes are coloured when colours are forced). */
const plain = (written: Buffer[]) =>
  Buffer.concat(written)
    .toString()
    .split(String.fromCharCode(27))
    .map((part, i) => (i === 0 ? part : part.replace(/^\[\d+m/, '')))
    .join('');

describe('LogPrinter', () => {
  it('joins partial entries into their line, across batches, so \\r progress bars redraw in place', () => {
    const { printer, written } = capture();
    const jobs = [job('a', 'train')];
    printer.print([line('a', 1, 'epoch 1 \r 10%', { partial: true })], jobs);
    printer.print([line('a', 2, '\r 100%'), line('a', 3, 'done')], jobs);
    expect(Buffer.concat(written.stdout).toString()).toBe('epoch 1 \r 10%\r 100%\ndone\n');
  });

  it('writes binary output as its exact bytes', () => {
    const { printer, written } = capture();
    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    printer.print([line('a', 1, bytes, { raw: true })], [job('a', 'x')]);
    expect(Buffer.concat(written.stdout).equals(Buffer.concat([bytes, Buffer.from('\n')]))).toBe(true);
  });

  it('ends an unfinished line when another job interrupts it, and prefixes lines of several jobs', () => {
    const { printer, written } = capture();
    const jobs = [job('a', 'prepare'), job('b', 'train')];
    printer.print([line('a', 1, 'loading', { partial: true }), line('b', 1, 'step 1'), line('a', 2, '... ok')], jobs);
    printer.end();
    // The prefixes are coloured when colours are forced: compare without the colour codes.
    expect(plain(written.stdout)).toBe('prepare | loading\ntrain   | step 1\nprepare | ... ok\n');
  });

  it('prints an entry of several lines as they are, and prefixes each of its lines when jobs share the terminal', () => {
    const alone = capture();
    alone.printer.print([line('a', 1, 'one\ntwo\n\nfour'), line('a', 2, 'five')], [job('a', 'x')]);
    expect(Buffer.concat(alone.written.stdout).toString()).toBe('one\ntwo\n\nfour\nfive\n');

    const { printer, written } = capture();
    const jobs = [job('a', 'prep'), job('b', 'train')];
    // The last line of a partial entry goes on in the next entry of its stream, under no new prefix.
    printer.print([line('a', 1, 'one\ntwo\nthr', { partial: true }), line('a', 2, 'ee\nfour')], jobs);
    printer.print([line('b', 1, 'x\ny')], jobs);
    expect(plain(written.stdout)).toBe('prep  | one\nprep  | two\nprep  | three\nprep  | four\ntrain | x\ntrain | y\n');
  });

  it('writes the prefix again after each \\r of a progress bar, which returns over it, but not inside a CRLF', () => {
    const { printer, written } = capture();
    const jobs = [job('a', 'prep'), job('b', 'train')];
    printer.print([line('b', 1, '\r 10%\r 50%', { partial: true })], jobs);
    printer.print([line('b', 2, '\r100%\r\nok')], jobs);
    expect(plain(written.stdout)).toBe('train | \rtrain |  10%\rtrain |  50%\rtrain | 100%\r\ntrain | ok\n');
  });

  it('keeps a stdout line whole across the stderr lines between its pieces, when the two go to different places', () => {
    const { printer, written } = capture();
    const jobs = [job('a', 'x')];
    // A line of over 64 KiB comes in pieces; stderr lines the job wrote meanwhile come between them.
    printer.print([line('a', 1, 'XXX', { partial: true }), line('a', 2, 'warn', { stream: 'stderr' })], jobs);
    printer.print([line('a', 3, 'err ', { stream: 'stderr', partial: true }), line('a', 4, 'XX END')], jobs);
    printer.print([line('a', 5, 'done', { stream: 'stderr' })], jobs);
    expect(Buffer.concat(written.stdout).toString()).toBe('XXXXX END\n');
    expect(Buffer.concat(written.stderr).toString()).toBe('warn\nerr done\n');

    // Each stream's unfinished line is ended at the end.
    const ended = capture();
    ended.printer.print(
      [line('a', 1, 'out', { partial: true }), line('a', 2, 'err', { stream: 'stderr', partial: true })],
      jobs,
    );
    ended.printer.end();
    expect(Buffer.concat(ended.written.stdout).toString()).toBe('out\n');
    expect(Buffer.concat(ended.written.stderr).toString()).toBe('err\n');
  });

  it('ends an unfinished stdout line before a stderr line when both go to one place, and writes both through stdout', () => {
    // Two streams to one terminal queue what it has not taken each on its own: one writer keeps the order.
    const { written } = capture();
    const printer = new LogPrinter(
      {
        stdout: { write: (d) => written.stdout.push(Buffer.from(d)) > 0 },
        stderr: { write: (d) => written.stderr.push(Buffer.from(d)) > 0 },
      },
      true,
    );
    printer.print(
      [line('a', 1, 'XXX', { partial: true }), line('a', 2, 'warn', { stream: 'stderr' })],
      [job('a', 'x')],
    );
    printer.print([line('a', 3, 'XX END'), line('a', 4, 'err', { stream: 'stderr', partial: true })], [job('a', 'x')]);
    printer.end();
    expect(Buffer.concat(written.stdout).toString()).toBe('XXX\nwarn\nXX END\nerr\n');
    expect(written.stderr).toEqual([]);
  });

  it('tells stdout and stderr share a place when one open file is behind both descriptors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-printer-'));
    const fds = [openSync(join(dir, 'a'), 'w'), openSync(join(dir, 'a'), 'a'), openSync(join(dir, 'b'), 'w')];
    try {
      const [a, again, b] = fds.map((fd) => ({ fd, write: () => true }));
      expect(sharedOutput({ stdout: a!, stderr: again! })).toBe(true);
      expect(sharedOutput({ stdout: a!, stderr: b! })).toBe(false);
      expect(sharedOutput({ stdout: a!, stderr: a! })).toBe(true);
    } finally {
      for (const fd of fds) closeSync(fd);
      rmSync(dir, { recursive: true });
    }
  });

  it('ends the output with a newline when the last line was left unfinished', () => {
    const { printer, written } = capture();
    printer.print([line('a', 1, 'Password: ', { partial: true })], [job('a', 'x')]);
    printer.end();
    expect(Buffer.concat(written.stdout).toString()).toBe('Password: \n');
  });

  it('writes to a stream in pieces, uncopied, and says when a slow reader has taken them', async () => {
    // A reader that takes nothing until let go: what is printed waits in the stream's queue.
    const taken: Buffer[] = [];
    let letGo: () => void = () => {};
    const held = new Promise<void>((r) => (letGo = r));
    const slow = new Writable({
      highWaterMark: 16,
      writev(chunks, done) {
        void held.then(() => (taken.push(...chunks.map((c) => c.chunk as Buffer)), done()));
      },
    });
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    const printer = new LogPrinter({ stdout: slow, stderr: quiet });
    const jobs = [job('a', 'x')];
    expect(printer.drained()).toBeUndefined();
    const first = line('a', 1, 'a line longer than the stream takes at once');
    const bytes = first.bytes;
    printer.print([first, line('a', 2, 'two')], jobs);
    const drained = printer.drained();
    expect(drained).toBeInstanceOf(Promise);
    let settled = false;
    void drained!.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    letGo();
    await drained;
    expect(Buffer.concat(taken).toString()).toBe(`${bytes.toString()}\ntwo\n`);
    // The job's bytes went to the stream as they were, not as a copy.
    expect(taken.some((c) => c.buffer === bytes.buffer && c.byteOffset === bytes.byteOffset)).toBe(true);
    expect(printer.drained()).toBeUndefined();
  });
});
