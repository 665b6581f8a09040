/**
 * How a followed log goes out: frames for the CLI (core/log-frames.ts: the output as bytes),
 * Server-Sent Events with JSON for browsers and older clients. The follower (log-routes.ts)
 * decides what to send; a sink only encodes it.
 */
import type { SSEStreamingApi } from 'hono/streaming';
import { encodeFrame, jobsFrame, type TaggedEntry } from '../../core/log-frames.js';
import { entriesJson } from './log-json.js';

type StreamingApi = Pick<SSEStreamingApi, 'write' | 'aborted' | 'onAbort' | 'abort'>;

export interface LogSink {
  readonly stream: StreamingApi;
  /** Entries, and the cursor just past them. */
  log(lines: readonly TaggedEntry[], cursor: string): Promise<void>;
  /** The followed jobs, already a JSON array. */
  jobs(json: string): Promise<void>;
  end(): Promise<void>;
  /** Something that keeps an idle connection (and its proxies) open. */
  keepalive(): Promise<void>;
}

/** Parts written one after another: the output is not copied into one buffer first. */
async function writeAll(stream: StreamingApi, parts: readonly Uint8Array[]): Promise<void> {
  for (const part of parts) if (part.length > 0) await stream.write(part);
}

export function frameSink(stream: StreamingApi): LogSink {
  return {
    stream,
    log: (lines, cursor) => writeAll(stream, encodeFrame({ event: 'log', id: cursor }, lines)),
    jobs: (json) => stream.write(jobsFrame(json)).then(),
    end: () => stream.write(Buffer.concat(encodeFrame({ event: 'end' }))).then(),
    keepalive: () => stream.write('\n').then(),
  };
}

export function sseSink(stream: StreamingApi): LogSink {
  return {
    stream,
    // Written as built: JSON holds no raw newline, so the array is one `data:` line (hono's
    // writeSSE would split and join a megabyte of data by lines).
    log: (lines, cursor) => stream.write(entriesJson(lines, 'event: log\ndata: ', `\nid: ${cursor}\n\n`)).then(),
    jobs: (json) => stream.write(`event: jobs\ndata: ${json}\n\n`).then(),
    end: () => stream.write('event: end\ndata: {}\n\n').then(),
    keepalive: () => stream.write(': keepalive\n\n').then(),
  };
}
