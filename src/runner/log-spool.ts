/** A crashed runner's unsent log entries: read back from its spool file and sent. */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { LogEntry } from '../core/records.js';

export type SendLogs = (entries: LogEntry[]) => Promise<unknown>;

/** A resent batch holds at most this many entries and about this many bytes (as the shipper's). */
const BATCH_ENTRIES = 20_000;
const BATCH_BYTES = 1 << 20;

/**
 * Send the entries a crashed runner left in `spool` (the server keeps those it lacks and
 * ignores the rest), then delete it. A line torn by the crash is skipped.
 */
export async function resendSpool(spool: string, send: SendLogs): Promise<void> {
  let batch: LogEntry[] = [];
  let bytes = 0;
  try {
    const lines = createInterface({ input: createReadStream(spool), crlfDelay: Infinity });
    for await (const line of lines) {
      let parsed: LogEntry | LogEntry[];
      try {
        parsed = JSON.parse(line) as LogEntry | LogEntry[];
      } catch {
        continue; // torn by the crash: never sent, since entries are spooled before they are sent
      }
      // A line is one append of the shipper (an array), or one entry (spools of older runners).
      for (const entry of Array.isArray(parsed) ? parsed : [parsed]) {
        batch.push(entry);
        bytes += entry.text.length + (entry.raw?.length ?? 0);
        if (batch.length >= BATCH_ENTRIES || bytes >= BATCH_BYTES) {
          await send(batch);
          batch = [];
          bytes = 0;
        }
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (batch.length > 0) await send(batch);
  await rm(spool, { force: true });
}
