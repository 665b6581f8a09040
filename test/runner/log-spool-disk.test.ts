/**
 * The log spool against a real disk: a full one (a tmpfs of 1 MB) must not hold the job's log,
 * and what it leaves on disk reads back whole; unfinished lines (output without its newline)
 * are on disk as soon as they are read, so a runner killed outright loses none of them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { toOutput } from '../../src/core/log-batch.js';
import type { LogEntry } from '../../src/core/records.js';
import { LogShipper, resendSpool } from '../../src/runner/log-shipper.js';
import { spoolRecord } from '../../src/runner/log-spool.js';
import { SPOOL_RETRY_MS, SpoolUnwritable, UNFINISHED_EVERY_MS } from '../../src/runner/log-spool-writer.js';
import { SpoolFile } from '../../src/runner/spool-file.js';
import { freshEntries } from '../../src/server/storage/log-append.js';
import { mountTmpfs } from '../fixtures/small-disk.js';

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = await mkdtemp(join(tmpdir(), 'dstack-spool-disk-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Fill the disk under `path` to its last page (head writes until the disk refuses). */
const fill = (path: string, bytes: number) =>
  execFileAsync('sh', ['-c', `head -c ${bytes} /dev/zero > ${path} || true`]);

/** Sends into a list, keeping copies of the entries. */
function collector() {
  const sent: LogEntry[] = [];
  return { sent, send: async (batch: LogEntry[]) => void sent.push(...batch.map((e) => ({ ...e }))) };
}

/** What a restarted runner sends from `spool`, as [seq, stream, text, partial]. */
async function resent(spool: string) {
  const { sent, send } = collector();
  await resendSpool(spool, send);
  return sent.map((e) => [e.seq, e.stream, e.text, e.partial ?? false]);
}

const never = () => new Promise<never>(() => {}); // a send the runner's kill cuts short

describe('a log spool on a full disk', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('does not hold the lines it cannot take: they are sent from memory, said once, and spooled again once there is room', async () => {
    const disk = await mountTmpfs(1, cleanup);
    const ballast = join(disk, 'ballast');
    await fill(ballast, 2 << 20);
    const spool = join(disk, 'job', 'log-spool.jsonl');
    const { sent, send } = collector();
    const errors: unknown[] = [];
    const shipper = new LogShipper(send, 0, 60_000, (e) => errors.push(e), spool);
    const lines = (from: number, to: number) =>
      Buffer.from(Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join(''));
    shipper.write('stdout', lines(1, 2000));
    await shipper.flush();
    shipper.write('stdout', lines(2001, 4000));
    await shipper.flush();
    expect(sent.flatMap((e) => e.text.split('\n'))).toEqual(lines(1, 4000).toString().trimEnd().split('\n'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SpoolUnwritable);
    expect((errors[0] as Error).message).toBe(
      `the job's log could not be spooled to disk (${spool}: ENOSPC: no space left on device, write); ` +
        'its lines are sent from memory, and those not yet sent if the runner dies are lost',
    );

    // Room again: the next lines read are on disk at once, as ever.
    await rm(ballast);
    await sleep(SPOOL_RETRY_MS + 50);
    shipper.write('stdout', Buffer.from('after the disk had room\n'));
    expect(await readFile(spool, 'utf8')).toContain('after the disk had room');
    await shipper.close();
    expect(sent.map((e) => e.seq)).toEqual(sent.map((_, i) => i + 1));
    expect(await readFile(spool, 'utf8')).toBe(''); // the server has all of it
  });

  it('takes back off an append the disk cut short: what is spooled after it reads back', async () => {
    const disk = await mountTmpfs(1, cleanup);
    const spool = join(disk, 'log-spool.jsonl');
    const file = new SpoolFile(spool);
    const entry = (seq: number, text: string): LogEntry => ({ seq, ts: seq, stream: 'stdout', text });
    const append = (seq: number, text: string) => file.append(spoolRecord([entry(seq, text)], [Buffer.from(text)]), 1);
    append(1, 'one');
    const size = (await stat(spool)).size;
    await fill(join(disk, 'ballast'), 2 << 20);
    // Part of it fits in the file's last page: the write is cut short there.
    expect(() => append(2, 'x'.repeat(200_000))).toThrow(/^spool append wrote \d+ of \d+ bytes$/);
    expect((await stat(spool)).size).toBe(size);
    await rm(join(disk, 'ballast'));
    append(3, 'three');
    file.close();
    expect(await resent(spool)).toEqual([
      [1, 'stdout', 'one', false],
      [3, 'stdout', 'three', false],
    ]);
  });

  it('is sent back past the entries it lacks, which the server takes only at a batch’s start', async () => {
    const spool = join(dir, 'gap', 'log-spool.jsonl');
    const file = new SpoolFile(spool);
    const entry = (seq: number): LogEntry => ({ seq, ts: seq, stream: 'stdout', text: `line ${seq}` });
    for (const seqs of [[1, 2], [5], [6, 7]]) {
      const entries = seqs.map(entry);
      file.append(
        spoolRecord(
          entries,
          entries.map((e) => Buffer.from(e.text)),
        ),
        seqs.length,
      );
    }
    file.close();
    // The server's rule for a batch: entries it has are skipped, a gap inside one is refused.
    let last = 0;
    const stored: string[] = [];
    await resendSpool(spool, async (entries) => {
      const fresh = freshEntries(
        'job',
        last,
        entries.map((e) => toOutput(e)),
      );
      stored.push(...fresh.map((e) => e.bytes.toString()));
      last = fresh.at(-1)?.seq ?? last;
    });
    expect(stored).toEqual([
      'line 1',
      'line 2',
      "[dstack] log entries 3–4 were kept by the server's previous data folder (or lost with its disk) and are not here",
      'line 5',
      'line 6',
      'line 7',
    ]);
  });
});

describe('unfinished lines in the spool', () => {
  it('are on disk as soon as they are read: a runner killed a moment later loses none', async () => {
    const spool = join(dir, 'partial', 'log-spool.jsonl');
    const shipper = new LogShipper(never, 0, 60_000, () => {}, spool);
    shipper.write('stdout', Buffer.from('first line\n'));
    shipper.write('stdout', Buffer.from('PARTIAL-XYZ'));
    // The runner is killed here, before its next send and long before the partial entry's second.
    expect(await resent(spool)).toEqual([
      [1, 'stdout', 'first line', false],
      [2, 'stdout', 'PARTIAL-XYZ', true],
    ]);
  });

  it('are superseded by what is read after them: nothing is sent twice', async () => {
    const spool = join(dir, 'superseded', 'log-spool.jsonl');
    const shipper = new LogShipper(never, 0, 60_000, () => {}, spool);
    shipper.write('stdout', Buffer.from('epoch 1'));
    shipper.write('stderr', Buffer.from('warn'));
    shipper.write('stdout', Buffer.from(' loss=0.9\nepoch 2'));
    shipper.write('stderr', Buffer.from('ing: slow disk\n'));
    expect(await resent(spool)).toEqual([
      [1, 'stdout', 'epoch 1 loss=0.9', false],
      [2, 'stderr', 'warning: slow disk', false],
      [3, 'stdout', 'epoch 2', true],
    ]);
  });

  it('stay on disk once the server has every line before them', async () => {
    const spool = join(dir, 'acknowledged', 'log-spool.jsonl');
    const { sent, send } = collector();
    const shipper = new LogShipper(send, 0, 5, () => {}, spool);
    shipper.write('stdout', Buffer.from('first line\nPARTIAL-XYZ'));
    for (let i = 0; i < 100 && sent.length === 0; i++) await sleep(10);
    expect(sent.map((e) => e.text)).toEqual(['first line']); // acknowledged: the spool's entries are cut
    expect(await resent(spool)).toEqual([[2, 'stdout', 'PARTIAL-XYZ', true]]);
  });

  it('cost a write per UNFINISHED_EVERY_MS while a line grows a byte at a time, not a write per byte', async () => {
    const spool = join(dir, 'bytes', 'log-spool.jsonl');
    const shipper = new LogShipper(never, 0, 60_000, () => {}, spool, 60_000);
    for (let i = 0; i < 5000; i++) shipper.write('stdout', Buffer.from('.'));
    await sleep(UNFINISHED_EVERY_MS * 3);
    // The first byte at once, the rest at the end of the interval: two records, not 5,000 (12 MB).
    expect((await stat(spool)).size).toBeLessThan(10_000);
    expect(await resent(spool)).toEqual([[1, 'stdout', '.'.repeat(5000), true]]);
  });
});
