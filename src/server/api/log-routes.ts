/** Reading logs: all at once, or followed live over Server-Sent Events until the jobs finish. */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LogLine } from '../../core/api.js';
import type { JobRecord } from '../../core/records.js';
import type { Engine } from '../engine.js';
import { allFinished, resolveTarget } from '../queries.js';
import type { ApiDeps, ApiEnv } from './context.js';
import * as schemas from './schemas.js';
import { query } from './validate.js';

/** Followers batch what arrives within this window into one event. */
const BATCH_MS = 25;
/** A comment this often keeps idle connections (and their proxies) open. */
const KEEPALIVE_MS = 15_000;

/** A cached job shows the log of the job it reuses. */
const logOf = (job: JobRecord) => job.cachedFrom ?? job.id;

function byTime(lines: LogLine[]): LogLine[] {
  return lines.sort((a, b) => a.ts - b.ts);
}

export function logRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/logs', async (c) => {
    const q = query(c, schemas.logsQuery);
    const target = await resolveTarget(engine.store, c.get('caller'), q.target);
    const lines: LogLine[] = [];
    for (const job of target.selected) {
      const entries = await engine.logs.read(logOf(job), { afterSeq: q.afterSeq ?? 0, since: q.since });
      for (const e of entries) lines.push({ ...e, jobId: job.id });
    }
    return c.json({ entries: byTime(lines) });
  });

  app.get('/logs/stream', async (c) => {
    const q = query(c, schemas.logsQuery);
    const target = await resolveTarget(engine.store, c.get('caller'), q.target);
    return streamSSE(c, (stream) => follow(engine, target.run.name, target.selected, q.since, stream));
  });
  return app;
}

type Stream = Parameters<Parameters<typeof streamSSE>[1]>[0];

async function follow(
  engine: Engine,
  runName: string,
  selected: JobRecord[],
  since: number | undefined,
  stream: Stream,
) {
  const ids = new Set(selected.map((j) => j.id));
  const offsets = new Map<string, number>();
  const dirty = new Set(selected.map(logOf)); // logs with lines not yet sent
  let statusChanged = true;
  let wake: () => void = () => {};
  const unsubscribe = selected.map((j) =>
    engine.logs.subscribe(logOf(j), () => {
      dirty.add(logOf(j));
      wake();
    }),
  );
  const onJob = (job: JobRecord) => {
    if (!ids.has(job.id)) return;
    statusChanged = true;
    wake();
  };
  engine.events.on('job', onJob);
  stream.onAbort(() => wake());
  try {
    let jobs = selected;
    let statuses = '';
    while (!stream.aborted) {
      const pending = new Promise<void>((resolve) => (wake = resolve));
      if (statusChanged) {
        statusChanged = false;
        jobs = (await engine.store.jobsOfRuns([runName])).filter((j) => ids.has(j.id));
      }
      // Read after the statuses: a job is finished only once its runner has sent every line.
      const lines: LogLine[] = [];
      for (const job of jobs) {
        const log = logOf(job);
        if (!dirty.has(log)) continue;
        dirty.delete(log);
        const read = await engine.logs.readFrom(log, offsets.get(log) ?? 0);
        offsets.set(log, read.offset);
        for (const e of read.entries) if (since === undefined || e.ts >= since) lines.push({ ...e, jobId: job.id });
      }
      if (lines.length > 0) await stream.writeSSE({ event: 'log', data: JSON.stringify(byTime(lines)) });
      const now = JSON.stringify(jobs.map((j) => [j.id, j.status, j.reason ?? null]));
      if (now !== statuses) {
        statuses = now;
        await stream.writeSSE({ event: 'jobs', data: JSON.stringify(jobs) });
      }
      if (allFinished(jobs)) {
        await stream.writeSSE({ event: 'end', data: '{}' });
        break;
      }
      const keepalive = setInterval(() => void stream.write(': keepalive\n\n').catch(() => {}), KEEPALIVE_MS);
      await pending;
      clearInterval(keepalive);
      await new Promise((r) => setTimeout(r, BATCH_MS));
    }
  } finally {
    engine.events.off('job', onJob);
    unsubscribe.forEach((off) => off());
  }
}
