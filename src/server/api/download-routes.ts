/**
 * Whole downloads for the dashboard: a job's log as one text file, a run's (every job's, as
 * `dstack logs RUN` prints them), and a job's artifacts as one tar archive. Both are streamed, pulled as the client takes them (pull-stream.ts): a log of
 * hundreds of megabytes holds a chunk in the server's memory, not the log. The bearer token goes
 * in the Authorization header as for every route; the browser saves the answer (web/src/lib/save-download.ts).
 */
import { Hono } from 'hono';
import { NotFoundError, UnavailableError } from '../../core/errors.js';
import { producer } from '../../core/records.js';
import type { Engine } from '../engine.js';
import { archivePlan, artifactTar } from './artifact-tar.js';
import type { ApiDeps, ApiEnv } from './context.js';
import { logOf } from './followed-jobs.js';
import { resolveJob, resolveRun } from './job-target.js';
import { readLogPage, type LogSource } from './log-page.js';
import { logText, taggedLogText } from './log-text.js';
import { jobPrefixes } from '../../core/line-prefix.js';
import type { LogStore } from '../storage/log-store.js';
import type { TaggedEntry } from '../../core/log-frames.js';
import { attachment, gathered, pulledStream } from './pull-stream.js';

export function downloadRoutes({ engine }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const { store } = engine;

  // The log as `dstack logs JOB` prints it; a cached job's is that of the job it reuses, as everywhere.
  app.get('/jobs/:id/log', async (c) => {
    const { job, run } = await resolveJob(store, c.get('caller'), c.req.param('id'));
    // Read to the end as it is now: an unfinished job's later lines are not waited for.
    const text = gathered(logText(engine.logs.entries(logOf(job))));
    return new Response(pulledStream(failuresLogged(engine, text, `log of job ${job.id}`)), {
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'content-disposition': attachment(`${run.name}-${job.workflow}-${job.id}.log`),
        'cache-control': 'no-store',
      },
    });
  });

  // Every job's log merged in time order, each line under its job's prefix when there are several.
  app.get('/runs/:name/log', async (c) => {
    const { run, jobs } = await resolveRun(store, c.get('caller'), c.req.param('name'));
    const sources = jobs.map((job) => ({ jobId: job.id, logId: logOf(job) }));
    const text = gathered(taggedLogText(runPages(engine.logs, sources), jobPrefixes(jobs)));
    return new Response(pulledStream(failuresLogged(engine, text, `log of run ${run.name}`)), {
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'content-disposition': attachment(`${run.name}.log`),
        'cache-control': 'no-store',
      },
    });
  });

  app.get('/jobs/:id/artifacts/archive', async (c) => {
    const { job, run } = await resolveJob(store, c.get('caller'), c.req.param('id'));
    const manifest = await store.getArtifacts(producer(job));
    const plan = archivePlan(manifest ?? { artifacts: [] });
    if (plan.files.length + plan.folders.length + plan.links.length === 0) {
      throw new NotFoundError(`job ${job.id} has no artifacts to download (it is ${job.status})`);
    }
    // Checked before the answer starts: once it has, a failure can only cut the archive short.
    const missing = await engine.blobs.missing(plan.files.map((f) => f.digest!));
    if (missing.length > 0) {
      const path = plan.files.find((f) => f.digest === missing[0])!.path;
      throw new UnavailableError(
        `${missing.length} of job ${job.id}'s artifact files ${missing.length === 1 ? 'is' : 'are'} not in the server's storage ` +
          `(the first: '${path}'): the server's blob store has lost ${missing.length === 1 ? 'it' : 'them'}; ` +
          'run the workflow again to make them anew',
      );
    }
    const mtime = new Date(job.finishedAt ?? Date.now());
    const tar = gathered(artifactTar(engine.blobs, plan, mtime));
    return new Response(pulledStream(failuresLogged(engine, tar, `artifacts of job ${job.id}`)), {
      headers: {
        'content-type': 'application/x-tar',
        'content-disposition': attachment(`${run.name}-${job.workflow}-${job.id}-artifacts.tar`),
        'cache-control': 'no-store',
      },
    });
  });
  return app;
}

/**
 * A failure once the answer has started cannot be an error answer: the stream is cut off (the
 * browser's download fails rather than keeping a short file as whole), and the server's log says why.
 */
async function* failuresLogged(engine: Engine, chunks: AsyncGenerator<Buffer>, what: string): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (e) {
    engine.logger.warn(`the download of the ${what} was cut off: ${(e as Error).message}`);
    throw e;
  }
}

/** Bytes of the run's logs one page holds at most, shared among the logs not yet read to their end. */
const RUN_PAGE_BYTES = 8 << 20;
/** A log's share never goes below this: each page reads every log left, so the pages must not be tiny. */
const MIN_LOG_BYTES = 64 << 10;

/**
 * A run's log entries, merged in time order as `dstack logs RUN` gets them (pages of `GET
 * /api/logs`), read to the end as they are now. The next page is read only once the client has
 * taken the last: the server holds about RUN_PAGE_BYTES however long the logs and however many
 * jobs (past 128 jobs, a 64 KiB window of each), and a log read to its end is not read again.
 */
async function* runPages(logs: LogStore, sources: readonly LogSource[]): AsyncGenerator<readonly TaggedEntry[]> {
  let left = [...sources];
  const cursor = new Map<string, number>();
  while (left.length > 0) {
    const share = Math.max(MIN_LOG_BYTES, Math.floor(RUN_PAGE_BYTES / left.length));
    const page = await readLogPage(logs, left, cursor, undefined, 20_000, share);
    if (page.entries.length > 0) yield page.entries;
    for (const { jobId, entry } of page.entries) if (entry.seq > (cursor.get(jobId) ?? 0)) cursor.set(jobId, entry.seq);
    const ended = new Set(page.ended);
    left = left.filter((s) => !ended.has(s.jobId));
    if (!page.more) break;
  }
}
