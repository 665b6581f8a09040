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

/** Entries of several jobs after the given cursors, merged by time (stable by job order). */
async function readAfter(engine: Engine, jobs: readonly JobRecord[], cursors: Map<string, number>, since?: number) {
  const lines: LogLine[] = [];
  for (const job of jobs) {
    // A cached job shows the log of the job it reuses.
    const source = job.cachedFrom ?? job.id;
    const entries = await engine.logs.read(source, { afterSeq: cursors.get(job.id) ?? 0, since });
    for (const e of entries) lines.push({ ...e, jobId: job.id });
    const last = entries[entries.length - 1];
    if (last) cursors.set(job.id, last.seq);
  }
  return lines.sort((a, b) => a.ts - b.ts);
}

export function logRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/logs', async (c) => {
    const q = query(c, schemas.logsQuery);
    const target = await resolveTarget(engine.store, c.get('caller'), q.target);
    const cursors = new Map(target.selected.map((j) => [j.id, q.afterSeq ?? 0]));
    return c.json({ entries: await readAfter(engine, target.selected, cursors, q.since) });
  });

  app.get('/logs/stream', async (c) => {
    const q = query(c, schemas.logsQuery);
    const target = await resolveTarget(engine.store, c.get('caller'), q.target);
    const ids = new Set(target.selected.map((j) => j.id));
    return streamSSE(c, async (stream) => {
      const cursors = new Map<string, number>();
      let wake: () => void = () => {};
      const poke = () => wake();
      const unsubscribe = target.selected.map((j) => engine.logs.subscribe(j.cachedFrom ?? j.id, poke));
      const onJob = (job: JobRecord) => {
        if (ids.has(job.id)) poke();
      };
      engine.events.on('job', onJob);
      stream.onAbort(poke);
      try {
        let statuses = '';
        while (!stream.aborted) {
          const pending = new Promise<void>((resolve) => (wake = resolve));
          const jobs = (await engine.store.jobsOfRuns([target.run.name])).filter((j) => ids.has(j.id));
          const finished = allFinished(jobs);
          const lines = await readAfter(engine, jobs, cursors, q.since);
          if (lines.length > 0) await stream.writeSSE({ event: 'log', data: JSON.stringify(lines) });
          const now = JSON.stringify(jobs.map((j) => [j.id, j.status, j.reason ?? null]));
          if (now !== statuses) {
            statuses = now;
            await stream.writeSSE({ event: 'jobs', data: JSON.stringify(jobs) });
          }
          if (finished) {
            await stream.writeSSE({ event: 'end', data: '{}' });
            break;
          }
          const keepalive = setTimeout(poke, 15_000);
          await pending;
          clearTimeout(keepalive);
        }
      } finally {
        engine.events.off('job', onJob);
        unsubscribe.forEach((off) => off());
      }
    });
  });
  return app;
}
