/**
 * The body of `POST /api/runner/jobs/:id/logs`: a log batch (core/log-batch.ts: the entries'
 * fields as JSON, their output as bytes), or, from older runners, JSON `{ entries }`. The
 * first byte tells them apart (`#` or `{`). A batch costs the server no JSON of the text:
 * its output bytes go to the log store as they came.
 */
import { isUtf8 } from 'node:buffer';
import type { Context } from 'hono';
import { InvalidError } from '../../core/errors.js';
import { decodeLogBatch, outputEntries, toOutput, type OutputEntry } from '../../core/log-batch.js';
import type { ApiEnv } from './context.js';
import * as schemas from './schemas.js';

/** Raw output per entry, at most: its base64 is what the JSON body's schema allows (1 MiB). */
const MAX_RAW = 3 << 18;

export async function logBatchBody(c: Context<ApiEnv>): Promise<OutputEntry[]> {
  const data = Buffer.from(await c.req.arrayBuffer());
  if (data[0] !== 0x23) {
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch {
      throw new InvalidError('request body is neither a log batch nor valid JSON');
    }
    return schemas.logEntries.parse(json).entries.map((e) => toOutput(e));
  }
  const batch = decodeLogBatch(data);
  if ('error' in batch) throw new InvalidError(batch.error);
  batch.heads.forEach((head, i) => {
    const bytes = batch.bytes[i]!;
    if (head.raw ? bytes.length > MAX_RAW : !isUtf8(bytes)) {
      throw new InvalidError(
        head.raw
          ? `log entry ${head.seq}: raw output over ${MAX_RAW} bytes`
          : `log entry ${head.seq} is not UTF-8: send it with raw`,
      );
    }
  });
  return outputEntries(batch.heads, batch.bytes);
}
