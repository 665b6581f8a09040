/**
 * The log as the CLI reads it (`GET /api/logs` and `/api/logs/stream` asked with
 * `Accept: LOG_FRAMES`): frames, each `#`, a JSON head, a newline, the entries' output bytes
 * one after another, and a newline, as a log batch (log-batch.ts) whose head also names each
 * entry's job and carries the event. The output goes from the log file to the terminal as
 * bytes: JSON of the text (escaping each line, parsing it again in the CLI) was most of the
 * cost of showing a chatty job's log. An empty line between frames keeps an idle stream open.
 * Browsers and older clients get JSON and Server-Sent Events, with the same fields.
 */
import type { BatchHead, OutputEntry } from './log-batch.js';
import { headOf, isBatchHeads, outputEntries, splitBody } from './log-batch.js';
import type { JobRecord } from './records.js';

export const LOG_FRAMES = 'application/vnd.dstack.log-frames';

/** An entry's head in a frame: its job too. */
export interface FrameEntry extends BatchHead {
  jobId: string;
}

/** A log entry as a reader gets it: its job, and its output as the job wrote it. */
export interface OutputLine extends OutputEntry {
  jobId: string;
}

export type FrameHead =
  /** Entries of the followed jobs; `id` is the cursor just past them. */
  | { event: 'log'; id: string; entries: FrameEntry[] }
  /** One page of `GET /api/logs`: its entries, the cursor of the next page, whether there is more. */
  | { event: 'page'; cursor: string; more: boolean; entries: FrameEntry[] }
  /** The followed jobs, when their statuses changed. */
  | { event: 'jobs'; jobs: JobRecord[] }
  /** Every followed job has finished and its log was sent. */
  | { event: 'end' };

/** An entry to send, and its job. */
export interface TaggedEntry {
  jobId: string;
  entry: OutputEntry;
}

type WithoutEntries<T> = T extends unknown ? Omit<T, 'entries'> : never;

/** A frame as buffers to write: `head`, with the heads of `lines` for a log or page, and their output (not copied). */
export function encodeFrame(head: WithoutEntries<FrameHead>, lines: readonly TaggedEntry[] = []): Buffer[] {
  const full =
    head.event === 'log' || head.event === 'page'
      ? { ...head, entries: lines.map(({ jobId, entry }): FrameEntry => ({ jobId, ...headOf(entry) })) }
      : head;
  return [Buffer.from(`#${JSON.stringify(full)}\n`), ...lines.map((l) => l.entry.bytes), NEWLINE];
}

const NEWLINE = Buffer.from('\n');

/** A `jobs` frame from the jobs' JSON array as the sender holds it (not parsed and serialised again). */
export const jobsFrame = (jobsJson: string): Buffer => Buffer.from(`#{"event":"jobs","jobs":${jobsJson}}\n\n`);

/** A frame's head JSON, read for a RecordReader (record-reader.ts): the head and its body's length. */
export function readFrameHead(json: unknown): { head: FrameHead; bodyLength: number } | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const head = json as Partial<Record<string, unknown>>;
  switch (head.event) {
    case 'log':
    case 'page': {
      const entries = head.entries;
      if (!isBatchHeads(entries) || !entries.every((e) => typeof (e as Partial<FrameEntry>).jobId === 'string')) {
        return undefined;
      }
      return { head: json as FrameHead, bodyLength: entries.reduce((sum, e) => sum + e.n, 0) };
    }
    case 'jobs':
      return Array.isArray(head.jobs) ? { head: json as FrameHead, bodyLength: 0 } : undefined;
    case 'end':
      return { head: json as FrameHead, bodyLength: 0 };
    default:
      return undefined;
  }
}

/** The lines of a frame: each entry's head and its bytes of `body` (shared, not copied). */
export function frameLines(entries: readonly FrameEntry[], body: Buffer): OutputLine[] {
  return outputEntries(entries, splitBody(entries, body));
}
