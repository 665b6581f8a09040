/**
 * The runner's log spool: entries are appended to a file before they are sent, and a
 * runner that crashed reads back and sends what is left. An append is one record: `#`,
 * a JSON array of the entries' fields without their text, a newline, then the entries'
 * bytes one after another and a newline. The bytes are the job's output as read: writing
 * them costs a copy, where JSON (escaping every newline of many-line entries, then encoding)
 * was the runner's largest cost on a chatty job. Spools of older runners (JSON lines: an
 * array per append, or one entry) are read too.
 *
 * Output read without its newline yet (a prompt, a progress bar, the last words of a job that
 * then sleeps) is spooled too, as a record of its unfinished lines behind the line
 * `~unfinished`: the partial entries it would be sent as, numbered after the last entry. Any
 * record after it supersedes it (those lines went on, or were sent as entries of their own), so
 * only the last one, with no record after it, is sent after a crash.
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { DstackError, InvalidError, TooLargeError } from '../core/errors.js';
import { batchEntry, encodeLogBatch, readBatchHead, splitBody } from '../core/log-batch.js';
import { RecordReader } from '../core/record-reader.js';
import type { LogEntry } from '../core/records.js';
import { olderSpool } from './spool-file.js';

/** Sends entries; `bytes[i]`, when given, is the exact output of entry i (what goes on the wire). */
export type SendLogs = (entries: LogEntry[], bytes?: readonly Buffer[]) => Promise<unknown>;

/** The server refused the batch itself, not for now: sending it again cannot help. */
export const isRefusedBatch = (e: unknown): boolean => e instanceof InvalidError || e instanceof TooLargeError;

/**
 * The server will never take the batch: refused itself, or the job is not this runner's to log
 * to any more (gone, ended, another's). Kept, it would hold the job. A token the server no longer
 * knows is the runner's refusal, not the batch's: its heartbeat aborts its jobs, says why and
 * ends the process (agent.ts, one-shot.ts), and the batches wait for that rather than end the
 * job first, unexplained.
 */
export function isRefusedForGood(e: unknown): boolean {
  if (isRefusedBatch(e)) return true;
  return e instanceof DstackError && ['not_found', 'conflict', 'forbidden'].includes(e.code);
}

/** Entries the server refused for good (isRefusedForGood), dropped so that the job goes on and can end. */
export class LogsRefused extends Error {
  constructor(entries: readonly LogEntry[], cause: unknown) {
    const range =
      entries.length === 1 ? `entry ${entries[0]!.seq}` : `entries ${entries[0]!.seq}–${entries.at(-1)!.seq}`;
    super(`dropped log ${range}, which the server refuses for good: ${(cause as Error).message}`, { cause });
  }
}

/** A resent batch holds at most this many entries and about this many bytes (as the shipper's). */
const BATCH_ENTRIES = 20_000;
const BATCH_BYTES = 1 << 20;

/** One spool record: a log batch (core/log-batch.ts) of `entries` with `bytes[i]`, the exact output of entry i. */
export const spoolRecord = (entries: readonly LogEntry[], bytes: readonly Buffer[]): Buffer[] =>
  encodeLogBatch(entries, bytes);

/** The line before a record of unfinished lines. Not JSON: a reader of older spools skips it. */
const UNFINISHED = '~unfinished';
const NEWLINE = Buffer.from('\n');

/** A line the job has not finished: the output read of it, and the seq it would be sent as. */
export interface UnfinishedLine {
  seq: number;
  stream: LogEntry['stream'];
  bytes: Buffer;
}

/**
 * A record of the job's unfinished lines as partial entries, superseded by any record after
 * it. Its head is written by hand (the fields of core/log-batch.ts's BatchHead): it goes with
 * nearly every read of a chatty job's output.
 */
export function unfinishedRecord(lines: readonly UnfinishedLine[], ts: number): Buffer[] {
  const heads = lines.map(
    ({ seq, stream, bytes }) =>
      `{"seq":${seq},"ts":${ts},"stream":"${stream}","n":${bytes.length},"partial":true${isUtf8(bytes) ? '' : ',"raw":true'}}`,
  );
  return [Buffer.from(`${UNFINISHED}\n#[${heads.join(',')}]\n`), ...lines.map((l) => l.bytes), NEWLINE];
}

interface SpooledRecord {
  entries: LogEntry[];
  bytes?: Buffer[];
  /** A record of unfinished lines, which a later record supersedes. */
  unfinished?: true;
}

/**
 * The entries of a spool file in order, record by record. A record torn by a crash (the
 * last one) ends the reading: it was never sent, since entries are spooled before they are sent.
 */
async function* spooled(spool: string): AsyncGenerator<SpooledRecord> {
  const reader = new RecordReader(readBatchHead);
  let unfinished = false;
  for await (const chunk of createReadStream(spool, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    reader.push(chunk);
    for (let item = reader.next(); item; item = reader.next()) {
      if (item.kind === 'bad') return; // torn: nothing after it was written
      if (item.kind === 'line') {
        const text = item.line.toString('utf8');
        if (text === UNFINISHED) {
          unfinished = true;
          continue;
        }
        // A JSON line of an older runner: an array of entries, or one.
        const parsed = parseJson(text) as LogEntry | LogEntry[] | undefined;
        if (parsed !== undefined) yield { entries: Array.isArray(parsed) ? parsed : [parsed] };
        continue;
      }
      const bytes = splitBody(item.head, item.body);
      const entries = item.head.map((head, i) => batchEntry(head, bytes[i]!));
      yield unfinished ? { entries, bytes, unfinished: true } : { entries, bytes };
      unfinished = false;
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // torn by the crash
  }
}

/**
 * Send the entries a crashed runner left in `spool` and its older generation (spool-file.ts;
 * the server keeps those it lacks and ignores the rest), then delete them. A batch the server
 * refuses itself is dropped (`onDropped`): kept, it would hold the job's save at every start.
 */
export async function resendSpool(
  spool: string,
  send: SendLogs,
  onDropped: (error: LogsRefused) => void = () => {},
): Promise<void> {
  const sendOrDrop: SendLogs = async (entries, bytes) => {
    try {
      await send(entries, bytes);
    } catch (e) {
      if (!isRefusedBatch(e)) throw e; // the job's own answers (gone, ended) are the caller's
      onDropped(new LogsRefused(entries, e));
    }
  };
  // The unfinished lines last spooled, unless a record after them (in either file) superseded them.
  const last: { unfinished?: SpooledRecord } = {};
  await resendFile(olderSpool(spool), sendOrDrop, last, false);
  await resendFile(spool, sendOrDrop, last, true);
  if (last.unfinished) await sendOrDrop(last.unfinished.entries, last.unfinished.bytes); // the file was gone
}

/** `final`: the last file, after which the unfinished lines that no record superseded are sent. */
async function resendFile(
  spool: string,
  send: SendLogs,
  last: { unfinished?: SpooledRecord },
  final: boolean,
): Promise<void> {
  let batch: LogEntry[] = [];
  // The output bytes of the batch's entries, while every record read had them (older spools: JSON only).
  let output: Buffer[] | undefined = [];
  let bytes = 0;
  const sendBatch = async () => {
    if (batch.length > 0) await send(batch, output);
    batch = [];
    output = [];
    bytes = 0;
  };
  try {
    for await (const record of spooled(spool)) {
      if (record.unfinished) {
        last.unfinished = record;
        continue;
      }
      last.unfinished = undefined;
      for (const [i, entry] of record.entries.entries()) {
        // Entries the disk had no room for leave a gap (log-spool-writer.ts): the server takes one
        // only at a batch's start, where it says entries are missing.
        if (batch.length > 0 && entry.seq !== batch.at(-1)!.seq + 1) await sendBatch();
        batch.push(entry);
        const out = record.bytes?.[i];
        if (out) output?.push(out);
        else output = undefined;
        bytes += entry.text.length + (entry.raw?.length ?? 0);
        if (batch.length >= BATCH_ENTRIES || bytes >= BATCH_BYTES) await sendBatch();
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await sendBatch();
  if (final && last.unfinished) {
    await send(last.unfinished.entries, last.unfinished.bytes); // before the file goes: a failure keeps it
    last.unfinished = undefined;
  }
  await rm(spool, { force: true });
}
