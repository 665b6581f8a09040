/**
 * Reading the server's log answers as lines with their output as bytes: frames
 * (core/log-frames.ts) from a server that has them, JSON and Server-Sent Events from an
 * older one, which the client asks for the same way (`Accept` names frames first).
 */
import type { LogLine } from '../core/api.js';
import { InternalError } from '../core/errors.js';
import type { LogPage } from '../core/log-api.js';
import { toOutput } from '../core/log-batch.js';
import { frameLines, LOG_FRAMES, readFrameHead, type FrameHead, type OutputLine } from '../core/log-frames.js';
import type { JobRecord } from '../core/records.js';
import { RecordReader } from '../core/record-reader.js';
import { readJson, type HttpResponse } from './http.js';
import { readSse } from './sse.js';

/** What a client asks for: frames, or JSON (and events) from a server without them. */
export const LOG_ACCEPT = `${LOG_FRAMES}, application/json;q=0.9, text/event-stream;q=0.8`;

export type LogEvent = { event: 'log'; lines: OutputLine[] } | { event: 'jobs'; jobs: JobRecord[] } | { event: 'end' };

const isFrames = (response: HttpResponse) => response.header('content-type')?.startsWith(LOG_FRAMES) ?? false;

const fromJson = (lines: readonly LogLine[]): OutputLine[] =>
  lines.map((line) => ({ jobId: line.jobId, ...toOutput(line) }));

/** The frames of a body as they arrive (keep-alive lines are skipped). */
async function* frames(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ head: FrameHead; body: Buffer }> {
  const reader = new RecordReader(readFrameHead);
  for await (const chunk of body) {
    reader.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    for (let item = reader.next(); item; item = reader.next()) {
      if (item.kind === 'bad')
        throw new InternalError(`the server sent a log frame that cannot be read: ${item.reason}`);
      if (item.kind === 'record') yield item;
    }
  }
}

function toEvent({ head, body }: { head: FrameHead; body: Buffer }): LogEvent | undefined {
  switch (head.event) {
    case 'log':
      return { event: 'log', lines: frameLines(head.entries, body) };
    case 'jobs':
      return { event: 'jobs', jobs: head.jobs };
    case 'end':
      return { event: 'end' };
    case 'page':
      return undefined; // not part of a stream
  }
}

/** The events of a followed log (`GET /api/logs/stream`). */
export async function* logEvents(response: HttpResponse): AsyncGenerator<LogEvent> {
  if (isFrames(response)) {
    for await (const frame of frames(response.body)) {
      const event = toEvent(frame);
      if (event) yield event;
    }
    return;
  }
  for await (const { event, data } of readSse(response.body)) {
    if (event === 'log') yield { event, lines: fromJson(JSON.parse(data) as LogLine[]) };
    else if (event === 'jobs') yield { event, jobs: JSON.parse(data) as JobRecord[] };
    else if (event === 'end') yield { event };
  }
}

/** One page of `GET /api/logs`. */
export async function readLogPage(
  response: HttpResponse,
): Promise<{ lines: OutputLine[]; cursor: string; more: boolean }> {
  if (!isFrames(response)) {
    const page = await readJson<LogPage>(response);
    return { lines: fromJson(page.entries), cursor: page.cursor, more: page.more };
  }
  for await (const { head, body } of frames(response.body)) {
    if (head.event === 'page') return { lines: frameLines(head.entries, body), cursor: head.cursor, more: head.more };
  }
  throw new InternalError('the server answered a log page without its frame');
}
