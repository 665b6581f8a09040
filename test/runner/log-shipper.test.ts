import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidError, NotFoundError, UnauthorizedError } from '../../src/core/errors.js';
import type { LogEntry } from '../../src/core/records.js';
import { LogShipper, MAX_LINE, QUEUE_HIGH_BYTES, resendSpool } from '../../src/runner/log-shipper.js';

const dir = await mkdtemp(join(tmpdir(), 'dstack-shipper-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The bytes a stream's entries stand for: raw when present, a newline after each whole line. */
function bytesOf(entries: LogEntry[], stream: LogEntry['stream'] = 'stdout'): Buffer {
  return Buffer.concat(
    entries
      .filter((e) => e.stream === stream)
      .flatMap((e) => [e.raw ? Buffer.from(e.raw, 'base64') : Buffer.from(e.text), Buffer.from(e.partial ? '' : '\n')]),
  );
}

function collector() {
  const sent: LogEntry[] = [];
  return { sent, send: async (batch: LogEntry[]) => void sent.push(...batch.map((e) => ({ ...e }))) };
}

describe('LogShipper', () => {
  it('asks for no more output once sends lag a full queue behind, and resumes it when they catch up', async () => {
    const gates: (() => void)[] = [];
    const sent: number[] = [];
    let bytes = 0;
    // Each send waits until the test lets it through: a server that cannot keep up.
    const send = (batch: LogEntry[], output?: readonly Buffer[]) =>
      new Promise<void>((resolve) =>
        gates.push(() => {
          sent.push(...batch.map((e) => e.seq));
          bytes += (output ?? []).reduce((n, b) => n + b.length + 1, 0); // each entry's lines and their last newline
          resolve();
        }),
      );
    const shipper = new LogShipper(send, 0, 10);
    const chunk = Buffer.from(`${'x'.repeat(1023)}\n`.repeat(256)); // 256 KiB of lines
    let writes = 1;
    while (shipper.write('stdout', chunk)) writes++;
    // The queue stops growing at the high mark (within the chunk that crossed it).
    expect(shipper.queued).toBeGreaterThanOrEqual(QUEUE_HIGH_BYTES);
    expect(shipper.queued).toBeLessThan(QUEUE_HIGH_BYTES + chunk.length);
    let resumed = false;
    shipper.whenDrained(() => (resumed = true));
    // Sends go through one at a time (about 1 MiB each): the job may go on only once the queue is well down.
    while (!resumed) {
      await new Promise((r) => setTimeout(r, 20));
      gates.shift()?.();
    }
    expect(shipper.queued).toBeLessThan(QUEUE_HIGH_BYTES / 2);
    const closing = shipper.close();
    while (gates.length > 0 || shipper.queued > 0) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    await closing;
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => i + 1)); // every entry, once, in order
    expect(bytes).toBe(writes * chunk.length);
  });

  it('numbers lines per job from the last stored sequence number, per stream', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 41, 10);
    shipper.write('stdout', Buffer.from('one\ntw'));
    shipper.write('stderr', Buffer.from('err\n'));
    shipper.write('stdout', Buffer.from('o\n'));
    await shipper.close();
    expect(sent.map((e) => [e.seq, e.stream, e.text])).toEqual([
      [42, 'stdout', 'one'],
      [43, 'stderr', 'err'],
      [44, 'stdout', 'two'],
    ]);
  });

  it('sends a line that waits for its newline as partial entries that join into the line', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10, () => {}, undefined, 50);
    shipper.write('stdout', Buffer.from('Epoch 1: \r 10%'));
    await new Promise((r) => setTimeout(r, 200));
    expect(sent).toMatchObject([{ seq: 1, text: 'Epoch 1: \r 10%', partial: true }]);
    shipper.write('stdout', Buffer.from('\r 100%\nnext\n'));
    await shipper.close();
    // The whole lines of one read go as one entry.
    expect(sent.map((e) => [e.text, e.partial ?? false])).toEqual([
      ['Epoch 1: \r 10%', true],
      ['\r 100%\nnext', false],
    ]);
    expect(bytesOf(sent).toString()).toBe('Epoch 1: \r 10%\r 100%\nnext\n');
  });

  it('cuts a very long line into pieces without splitting a character', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10);
    const line = 'é'.repeat(MAX_LINE); // two bytes each: the cut falls inside characters
    shipper.write('stdout', Buffer.from(line + '\n'));
    await shipper.close();
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.slice(0, -1).every((e) => e.partial)).toBe(true);
    expect(sent.every((e) => e.raw === undefined && !e.text.includes('\ufffd'))).toBe(true);
    expect(sent.map((e) => e.text).join('')).toBe(line);
  });

  it('keeps a character split across writes whole', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10, () => {}, undefined, 20);
    const bytes = Buffer.from('π≈3.14 🚀\n');
    for (const byte of bytes) shipper.write('stdout', Buffer.from([byte]));
    await shipper.close();
    expect(sent.map((e) => e.text).join('')).toBe('π≈3.14 🚀');
    expect(sent.every((e) => e.raw === undefined)).toBe(true);
  });

  it('keeps binary output exactly, with a readable text beside it', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 10);
    const binary = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe, 0x00, 0x80, 0x0a, 0xc3, 0x28, 0x0a]);
    shipper.write('stdout', binary);
    await shipper.close();
    expect(sent[0]).toMatchObject({ text: 'PK\u0003\u0004\ufffd\ufffd\u0000\ufffd' });
    expect(sent.every((e) => e.raw !== undefined)).toBe(true);
    expect(bytesOf(sent).equals(binary)).toBe(true);
  });

  it('sends full batches back to back rather than one per interval', async () => {
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 60_000);
    for (let i = 0; i < 20_000; i++) shipper.write('stdout', Buffer.from(`line ${i}\n`));
    await new Promise((r) => setTimeout(r, 500));
    expect(sent.length).toBeGreaterThanOrEqual(15_000); // the 60 s interval did not hold them back
    await shipper.close();
    expect(sent.map((e) => e.seq)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
  });

  it('sends the batch that empties the queue at close through `last`, again when it fails; not at all when none is left', async () => {
    const usual: number[][] = [];
    const last: number[][] = [];
    let fail = true;
    const shipper = new LogShipper(async (batch) => void usual.push(batch.map((e) => e.seq)), 0, 60_000);
    for (let i = 0; i < 20_001; i++) shipper.write('stdout', Buffer.from(`line ${i}\n`));
    shipper.write('stdout', Buffer.from('no newline yet'));
    await shipper.close(undefined, async (batch) => {
      last.push(batch.map((e) => e.seq));
      if (fail) {
        fail = false;
        throw new Error('network down');
      }
    });
    // A full batch first, the usual way; the rest (with the unfinished line) through `last`, twice.
    expect([...usual, ...last].flat().at(-1)).toBe(20_002);
    expect(last).toHaveLength(2);
    expect(last[0]).toEqual(last[1]);
    expect(last[0]!.at(-1)).toBe(20_002);
    expect(usual.flat()).not.toContain(20_002);
    const idle = new LogShipper(async () => {}, 0, 10);
    let called = false;
    await idle.close(undefined, async () => void (called = true));
    expect(called).toBe(false);
  });

  it('drops a batch the server refuses for good, says so, and goes on: the job is not held by it', async () => {
    const sent: number[][] = [];
    const errors: string[] = [];
    let refuse = true;
    const spool = join(dir, 'refused.spool');
    const shipper = new LogShipper(
      async (batch) => {
        sent.push(batch.map((e) => e.seq));
        if (refuse) {
          refuse = false;
          throw new InvalidError('log entry 10 of job 0123456789ab leaves a gap after 0');
        }
      },
      9,
      5,
      (e) => errors.push((e as Error).message),
      spool,
    );
    shipper.write('stdout', Buffer.from('a\nb\n'));
    await new Promise((r) => setTimeout(r, 50));
    shipper.write('stdout', Buffer.from('c\n'));
    const started = Date.now();
    await shipper.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(sent).toEqual([[10], [11]]);
    expect(errors).toEqual([
      'dropped log entry 10, which the server refuses for good: log entry 10 of job 0123456789ab leaves a gap after 0',
    ]);
    expect((await stat(spool)).size).toBe(0); // a restarted runner does not send it again
  });

  it('resends a spool past a batch the server refuses itself; an answer about the job is thrown', async () => {
    const spool = join(dir, 'resend-refused.spool');
    const shipper = new LogShipper(
      async () => Promise.reject(new Error('server down')),
      0,
      60_000,
      () => {},
      spool,
    );
    for (let i = 1; i <= 3; i++) shipper.write('stdout', Buffer.from(`line ${i}\n`));
    await expect(shipper.close(100)).rejects.toThrow('server down');
    const dropped: string[] = [];
    const gone = () => Promise.reject(new NotFoundError('no job 0123456789ab'));
    await expect(resendSpool(spool, gone, (e) => dropped.push(e.message))).rejects.toThrow('no job 0123456789ab');
    expect((await stat(spool)).size).toBeGreaterThan(0);
    await resendSpool(
      spool,
      () => Promise.reject(new InvalidError('bad batch')),
      (e) => dropped.push(e.message),
    );
    expect(dropped).toEqual(['dropped log entries 1–3, which the server refuses for good: bad batch']);
    await expect(stat(spool)).rejects.toThrow('ENOENT');
  });

  it("stops sending once the server refuses the runner's token, and keeps the entries in the spool", async () => {
    const spool = join(dir, 'unauthorized.spool');
    let tries = 0;
    const shipper = new LogShipper(
      async () => {
        tries++;
        throw new UnauthorizedError('missing or invalid token');
      },
      0,
      5,
      () => {},
      spool,
    );
    shipper.write('stdout', Buffer.from('a\n'));
    await new Promise((r) => setTimeout(r, 100));
    shipper.write('stdout', Buffer.from('b\n'));
    await expect(shipper.close()).rejects.toThrow('missing or invalid token');
    expect(tries).toBe(1); // a deleted runner's token is not tried again and again
    expect((await stat(spool)).size).toBeGreaterThan(0); // a runner given a new token sends them
  });

  it('re-sends a failed batch with the same sequence numbers', async () => {
    const sent: LogEntry[][] = [];
    let fail = true;
    const shipper = new LogShipper(
      async (batch) => {
        sent.push(batch.map((e) => ({ ...e })));
        if (fail) {
          fail = false;
          throw new Error('network down');
        }
      },
      0,
      5,
    );
    shipper.write('stdout', Buffer.from('a\n'));
    shipper.write('stdout', Buffer.from('b\n'));
    await shipper.close();
    expect(sent.map((b) => b.map((e) => e.seq))).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  it('spools output that arrives while the spool is being written with its own entries', async () => {
    const spool = join(dir, 'busy', 'log-spool.jsonl');
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 1, () => {}, spool);
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(200)}`);
    // One write per turn of the event loop: many land while an append to the spool is under way.
    for (let i = 0; i < lines.length; i += 10) {
      shipper.write('stdout', Buffer.from(lines.slice(i, i + 10).join('\n') + '\n'));
      await new Promise((r) => setImmediate(r));
    }
    await shipper.close();
    expect(sent.flatMap((e) => e.text.split('\n'))).toEqual(lines);
    expect(sent.map((e) => e.seq)).toEqual(sent.map((_, i) => i + 1));
    expect(await readFile(spool, 'utf8')).toBe('');
  });

  it('has every line it read on disk at once: a runner killed before its next send loses none', async () => {
    const spool = join(dir, 'killed', 'log-spool.jsonl');
    const never = () => new Promise<never>(() => {}); // the send that the kill cuts short
    const shipper = new LogShipper(never, 0, 60_000, () => {}, spool);
    shipper.write('stdout', Buffer.from('epoch 1 loss=0.9\nepoch 2'));
    shipper.write('stderr', Buffer.from('warning: slow disk\n'));
    shipper.write('stdout', Buffer.from(' loss=0.8\n'));
    shipper.note('saving a checkpoint');
    // No interval has passed and nothing was flushed: the runner is "killed" here.
    const { sent, send } = collector();
    await resendSpool(spool, send);
    expect(sent.map((e) => [e.seq, e.stream, e.text])).toEqual([
      [1, 'stdout', 'epoch 1 loss=0.9'],
      [2, 'stderr', 'warning: slow disk'],
      [3, 'stdout', 'epoch 2 loss=0.8'],
      [4, 'stderr', '[dstack] saving a checkpoint'],
    ]);
  });

  it('spools entries until the server has them; a restarted runner sends what a crash left', async () => {
    const spool = join(dir, 'job-1', 'log-spool.jsonl');
    const down = new LogShipper(
      async () => {
        throw new Error('server unreachable');
      },
      0,
      5,
      () => {},
      spool,
    );
    down.write('stdout', Buffer.from('kept 1\n'));
    down.write('stdout', Buffer.from('kept 2\n'));
    await expect(down.flush()).rejects.toThrow('server unreachable');
    await expect(down.close(0)).rejects.toThrow('server unreachable'); // the runner "crashes" here

    const { sent, send } = collector();
    await resendSpool(spool, send);
    expect(sent.map((e) => [e.seq, e.text])).toEqual([
      [1, 'kept 1'],
      [2, 'kept 2'],
    ]);
    await expect(stat(spool)).rejects.toThrow('ENOENT');

    const up = new LogShipper(send, 2, 5, () => {}, spool);
    up.write('stdout', Buffer.from('three\n'));
    await up.close();
    expect(await readFile(spool, 'utf8')).toBe(''); // acknowledged: nothing left to resend
    await resendSpool(join(dir, 'no-such-job', 'log-spool.jsonl'), send); // no spool: nothing to do
  });
});
