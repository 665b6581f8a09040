/**
 * Reading logs: by pages (a cursor per job says where the next page starts), or followed
 * live until the jobs finish. Each `log` event carries the cursor as its `id`, so a follower
 * that reconnects (`cursor=` or `Last-Event-ID`) resumes right after the last line it got.
 * A client that accepts frames (core/log-frames.ts: the CLI) gets the output as bytes;
 * others get JSON, and Server-Sent Events when following.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { stream as streamBytes, streamSSE } from 'hono/streaming';
import { formatCursor, parseCursor, type LogCursor } from '../../core/log-api.js';
import { encodeFrame, LOG_FRAMES, type TaggedEntry } from '../../core/log-frames.js';
import type { JobRecord } from '../../core/records.js';
import type { Engine } from '../engine.js';
import { resolveTarget } from '../queries.js';
import { clientGone } from './client-gone.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { FollowedJobs, logOf } from './followed-jobs.js';
import { entriesJson } from './log-json.js';
import { readLogPage } from './log-page.js';
import { tailStart } from './log-tail.js';
import { frameSink, sseSink, type LogSink } from './log-sinks.js';
import * as logSchemas from './log-schemas.js';
import type { StreamSlots } from './stream-slots.js';
import { watchToken } from './token-watch.js';
import { query } from './validate.js';

/**
 * A follower's passes are at least this far apart, so what arrives meanwhile goes in one
 * event; the first change after a quiet spell goes at once, and the run's end never waits.
 */
const BATCH_MS = 25;
/**
 * The least time between two `jobs` events (each carries every followed job), ms per job
 * followed, capped: a 1,000-job run sends its list at most every 250 ms rather than on
 * every change, which otherwise costs the run's size per change. The last list always
 * goes out before `end`.
 */
const JOBS_EVENT_MS_PER_JOB = 0.25;
const JOBS_EVENT_MAX_MS = 1000;
/** A comment this often keeps idle connections (and their proxies) open. */
const KEEPALIVE_MS = 15_000;

const wantsFrames = (c: Context<ApiEnv>) => c.req.header('accept')?.includes(LOG_FRAMES) ?? false;

/** `streams`: the log streams each user holds open, counted against its limit. */
export function logRoutes({ engine, streams }: ApiDeps & { streams: StreamSlots }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/logs', async (c) => {
    const q = query(c, logSchemas.logPageQuery);
    const target = await resolveTarget(engine.store, c.get('caller'), q.target);
    const cursor = parseCursor(q.cursor) ?? new Map<string, number>();
    // `afterSeq` (older clients) applies to every job without a cursor of its own.
    if (q.afterSeq) for (const job of target.selected) if (!cursor.has(job.id)) cursor.set(job.id, q.afterSeq);
    const sources = target.selected.map((job) => ({ jobId: job.id, logId: logOf(job) }));
    const page = await readLogPage(engine.logs, sources, cursor, q.since, q.limit ?? 20_000);
    if (wantsFrames(c)) {
      const frame = encodeFrame({ event: 'page', cursor: page.cursor, more: page.more }, page.entries);
      return c.body(Buffer.concat(frame), 200, { 'content-type': LOG_FRAMES });
    }
    const tail = `,"cursor":${JSON.stringify(page.cursor)},"more":${page.more}}`;
    return c.body(entriesJson(page.entries, '{"entries":', tail), 200, { 'content-type': 'application/json' });
  });

  app.get('/logs/stream', async (c) => {
    const gone = clientGone(c); // before this route's awaits: a client may leave during them
    const caller = c.get('caller');
    // Taken before the awaits, so that a burst of requests cannot all pass the count; given back
    // the moment the client goes (not once the follower has wound down), or as the stream ends.
    const release = streams.take(caller);
    gone.addEventListener('abort', release, { once: true });
    let following = false;
    try {
      const q = query(c, logSchemas.logStreamQuery);
      const target = await resolveTarget(engine.store, caller, q.target);
      const cursor = parseCursor(q.cursor ?? c.req.header('last-event-id')) ?? new Map<string, number>();
      const sendJobs = q.jobs !== 'false';
      if (q.tail) {
        for (const job of target.selected)
          if (!cursor.has(job.id)) cursor.set(job.id, await tailStart(engine.logs, logOf(job), q.tail));
      }
      // Nobody to answer: no follower is started (nothing would ever read or cancel its stream).
      if (gone.aborted) return c.body(null, 204);
      following = true;
      return answer(target, q.since, cursor, sendJobs);
    } finally {
      if (!following) {
        gone.removeEventListener('abort', release);
        release();
      }
    }

    function answer(
      target: Awaited<ReturnType<typeof resolveTarget>>,
      since: number | undefined,
      cursor: LogCursor,
      sendJobs: boolean,
    ) {
      const run = async (sink: LogSink) => {
        // A client gone before its stream was taken up leaves it unread and never cancelled: the
        // follower would wait on its first write for ever. Aborting the stream ends that write.
        const abort = () => sink.stream.abort();
        gone.addEventListener('abort', abort, { once: true });
        // A token replaced or revoked meanwhile ends the stream; the client's reconnect is refused, saying why.
        const token = watchToken(engine, caller);
        try {
          if (gone.aborted) abort();
          await follow(engine, target.run.name, target.selected, since, cursor, sink, sendJobs, token.signal);
        } finally {
          token.stop();
          gone.removeEventListener('abort', abort);
          gone.removeEventListener('abort', release);
          release();
        }
        if (token.signal.aborted)
          engine.logger.info(
            `a log stream of ${caller.name}'s ended: the token is no longer valid, or no longer an admin's`,
          );
      };
      if (!wantsFrames(c)) return streamSSE(c, (stream) => run(sseSink(stream)));
      c.header('content-type', LOG_FRAMES);
      c.header('cache-control', 'no-cache');
      return streamBytes(c, (stream) => run(frameSink(stream)));
    }
  });
  return app;
}

async function follow(
  engine: Engine,
  runName: string,
  selected: JobRecord[],
  since: number | undefined,
  cursor: LogCursor,
  sink: LogSink,
  sendJobs: boolean,
  /** Aborted when the caller's token is no longer valid: the stream ends, without `end`. */
  revoked: AbortSignal,
) {
  const { stream } = sink;
  const ids = new Set(selected.map((j) => j.id));
  // Start each log after the reader's cursor, or near `since`: never from the top of a long log.
  const offsets = new Map<string, number>();
  for (const job of selected) {
    const seq = cursor.get(job.id) ?? 0;
    const start = seq > 0 ? await engine.logs.offsetAfter(logOf(job), seq) : 0;
    const near = since === undefined ? 0 : await engine.logs.offsetForTime(logOf(job), since);
    offsets.set(logOf(job), Math.max(start, near));
  }
  const dirty = new Set(selected.map(logOf)); // logs with lines not yet sent
  // A job that joined another's identical job shows that job's log once it is DONE (logOf): whole, at once.
  const shown = new Map(selected.map((j) => [j.id, logOf(j)]));
  const noteLog = (job: JobRecord) => {
    const log = logOf(job);
    if (shown.get(job.id) === log) return;
    shown.set(job.id, log);
    dirty.add(log);
  };
  const followed = new FollowedJobs(selected);
  const early: JobRecord[] = []; // records changed before the first read from the store, newest last
  let ready = false;
  let wake: () => void = () => {};
  let hurry: () => void = () => {};
  const unsubscribe = selected.map((j) =>
    engine.logs.subscribe(logOf(j), () => {
      dirty.add(logOf(j));
      wake();
    }),
  );
  // The event carries the changed record: keep it rather than re-read the run from the store.
  const onJob = (job: JobRecord) => {
    if (!ids.has(job.id)) return;
    if (!ready) return void early.push(job);
    noteLog(job);
    followed.apply(job);
    if (followed.allFinished()) hurry();
    wake();
  };
  engine.events.on('job', onJob);
  stream.onAbort(() => (wake(), hurry()));
  revoked.addEventListener('abort', () => (wake(), hurry()), { once: true });
  const jobsEventGap = Math.min(JOBS_EVENT_MAX_MS, selected.length * JOBS_EVENT_MS_PER_JOB);
  let lastJobsEvent = 0;
  let jobsTimer: NodeJS.Timeout | undefined;
  try {
    // Read once after subscribing: a change between the target's read and now is not missed.
    const current = (await engine.store.jobsOfRuns([runName])).filter((j) => ids.has(j.id));
    followed.reset(current);
    current.forEach(noteLog);
    for (const job of early.splice(0)) {
      noteLog(job);
      followed.apply(job);
    }
    ready = true;
    while (!stream.aborted && !revoked.aborted) {
      const passAt = Date.now();
      const pending = new Promise<void>((resolve) => (wake = resolve));
      // Taken before the logs are read: a job is finished only once its runner has sent every
      // line, so a read that starts after the status has them all (a status that changes while
      // this pass reads waits for the next one).
      const finished = followed.allFinished();
      const lines: TaggedEntry[] = [];
      let backlog = false;
      for (const job of followed.showing(dirty)) {
        const log = logOf(job);
        dirty.delete(log);
        const read = await engine.logs.readFrom(log, offsets.get(log) ?? 0);
        offsets.set(log, read.offset);
        if (read.more) {
          dirty.add(log); // a window at a time: memory stays bounded however long the log
          backlog = true;
        }
        // A read starts at an append's beginning: entries the reader has already are left out.
        const after = cursor.get(job.id) ?? 0;
        for (const entry of read.entries)
          if (entry.seq > after && (since === undefined || entry.ts >= since)) lines.push({ jobId: job.id, entry });
      }
      if (lines.length > 0) {
        lines.sort((a, b) => a.entry.ts - b.entry.ts); // stable: each job's entries stay in sequence order
        for (const { jobId, entry } of lines) if (entry.seq > (cursor.get(jobId) ?? 0)) cursor.set(jobId, entry.seq);
        await sink.log(lines, formatCursor(cursor));
      }
      if (backlog) continue; // more to send right away; the end only once all is sent
      // Each `jobs` event carries the whole list: a follower that does not show it is not sent it.
      if (sendJobs && followed.statusPending()) {
        const wait = lastJobsEvent + jobsEventGap - Date.now();
        if (wait <= 0 || finished) {
          followed.takeStatusChange();
          lastJobsEvent = Date.now();
          await sink.jobs(followed.toJson());
        } else if (!jobsTimer) {
          jobsTimer = setTimeout(() => {
            jobsTimer = undefined;
            wake();
          }, wait);
        }
      }
      if (finished) {
        await sink.end();
        break;
      }
      const keepalive = setInterval(() => void sink.keepalive().catch(() => {}), KEEPALIVE_MS);
      await pending;
      clearInterval(keepalive);
      const wait = passAt + BATCH_MS - Date.now();
      if (wait > 0 && !followed.allFinished()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          hurry = () => (clearTimeout(timer), resolve());
        });
      }
    }
  } finally {
    clearTimeout(jobsTimer);
    engine.events.off('job', onJob);
    unsubscribe.forEach((off) => off());
  }
}
