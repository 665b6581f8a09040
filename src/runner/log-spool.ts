/**
 * The runner's log spool: entries are appended to a file before they are sent, and a
 * runner that crashed reads back and sends what is left. An append is one record: `#`,
 * a JSON array of the entries' fields without their text, a newline, then the entries'
 * bytes one after another and a newline. The bytes are the job's output as read: writing
 * them costs a copy, where JSON (escaping every newline of many-line entries, then encoding)
 * was the runner's largest cost on a chatty job. Spools of older runners (JSON lines: an
 * array per append, or one entry) are read too.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { batchEntry, bodyLength, encodeLogBatch, isBatchHeads, type BatchHead } from '../core/log-batch.js';
import type { LogEntry } from '../core/records.js';

/** Sends entries; `bytes[i]`, when given, is the exact output of entry i (what goes on the wire). */
export type SendLogs = (entries: LogEntry[], bytes?: readonly Buffer[]) => Promise<unknown>;

/** A resent batch holds at most this many entries and about this many bytes (as the shipper's). */
const BATCH_ENTRIES = 20_000;
const BATCH_BYTES = 1 << 20;

const HASH = 0x23; // '#'

/** One spool record: a log batch (core/log-batch.ts) of `entries` with `bytes[i]`, the exact output of entry i. */
export const spoolRecord = (entries: readonly LogEntry[], bytes: readonly Buffer[]): Buffer[] =>
  encodeLogBatch(entries, bytes);

/**
 * The entries of a spool file in order, record by record. A record torn by a crash (the
 * last one) ends the reading: it was never sent, since entries are spooled before they are sent.
 */
async function* spooled(spool: string): AsyncGenerator<{ entries: LogEntry[]; bytes?: Buffer[] }> {
  // Chunks not consumed yet, joined only once a whole record is there (a record may be large).
  let chunks: Buffer[] = [];
  let length = 0;
  /** Bytes at the front known to hold no newline. */
  let searched = 0;
  /** The header of the record at the front, once read, and the bytes its body needs. */
  let heads: BatchHead[] | undefined;
  let need = 0;
  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
    chunks = n < all.length ? [all.subarray(n)] : [];
    length -= n;
    searched = 0;
    return all.subarray(0, n);
  };
  for await (const chunk of createReadStream(spool, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    for (;;) {
      if (heads === undefined) {
        const nl = indexOfNewline(chunks, searched);
        if (nl < 0) {
          searched = length;
          break;
        }
        const line = take(nl + 1).toString('utf8', 0, nl);
        if (line.charCodeAt(0) !== HASH) {
          // A JSON line of an older runner: an array of entries, or one.
          const parsed = parseJson(line) as LogEntry | LogEntry[] | undefined;
          if (parsed !== undefined) yield { entries: Array.isArray(parsed) ? parsed : [parsed] };
          continue;
        }
        const parsed = parseJson(line.slice(1));
        if (!isBatchHeads(parsed)) return; // torn: nothing after it was written
        heads = parsed;
        need = bodyLength(heads);
      }
      if (length < need) break;
      const body = take(need);
      if (body[need - 1] !== 0x0a) return; // not the record's end: torn
      const entries: LogEntry[] = [];
      const bytes: Buffer[] = [];
      let at = 0;
      for (const head of heads) {
        bytes.push(body.subarray(at, at + head.n));
        entries.push(batchEntry(head, bytes[bytes.length - 1]!));
        at += head.n;
      }
      heads = undefined;
      yield { entries, bytes };
    }
  }
}

/** Where the first newline at or after byte `from` of `chunks` (taken as one) is, or -1. */
function indexOfNewline(chunks: readonly Buffer[], from: number): number {
  let base = 0;
  for (const chunk of chunks) {
    if (base + chunk.length > from) {
      const nl = chunk.indexOf(0x0a, Math.max(0, from - base));
      if (nl >= 0) return base + nl;
    }
    base += chunk.length;
  }
  return -1;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // torn by the crash
  }
}

/**
 * Send the entries a crashed runner left in `spool` (the server keeps those it lacks and
 * ignores the rest), then delete it.
 */
export async function resendSpool(spool: string, send: SendLogs): Promise<void> {
  let batch: LogEntry[] = [];
  // The output bytes of the batch's entries, while every record read had them (older spools: JSON only).
  let output: Buffer[] | undefined = [];
  let bytes = 0;
  try {
    for await (const record of spooled(spool)) {
      for (const [i, entry] of record.entries.entries()) {
        batch.push(entry);
        const out = record.bytes?.[i];
        if (out) output?.push(out);
        else output = undefined;
        bytes += entry.text.length + (entry.raw?.length ?? 0);
        if (batch.length >= BATCH_ENTRIES || bytes >= BATCH_BYTES) {
          await send(batch, output);
          batch = [];
          output = [];
          bytes = 0;
        }
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (batch.length > 0) await send(batch, output);
  await rm(spool, { force: true });
}
