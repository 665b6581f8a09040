/**
 * The body of a run's submission or preview. The server checks and plans a run on its one
 * thread, about 30 µs a job for a preview, every other caller waiting meanwhile: a run's jobs
 * are counted before any is checked, and a run holds 20,000 at most (twice the largest DAG the
 * benchmarks plan), about half a second of that thread.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { TooLargeError } from '../../core/errors.js';
import type { ApiEnv } from './context.js';
import { jsonBody } from './validate.js';

export const MAX_RUN_JOBS = 20_000;

export async function runBody<T extends z.ZodType>(c: Context<ApiEnv>, schema: T): Promise<z.infer<T>> {
  const json = await jsonBody(c);
  const jobs = typeof json === 'object' && json !== null ? (json as { jobs?: unknown }).jobs : undefined;
  if (Array.isArray(jobs) && jobs.length > MAX_RUN_JOBS) {
    throw new TooLargeError(
      `the run has ${jobs.length} jobs, over ${MAX_RUN_JOBS}, the most one run may have: split the workflow ` +
        "into smaller runs (a job depends on another run's through its tag: depends-on: [WORKFLOW:TAG])",
    );
  }
  return schema.parse(json);
}
