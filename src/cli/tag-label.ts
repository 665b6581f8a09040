/** How `dstack status` and `dstack tags list` show a run's tag, or the one promised to it. */
import { isFinished } from '../core/job-status.js';
import type { RunView } from '../core/records.js';

/** What marks a tag promised to an unfinished run (`dstack run --tag`), not yet its. */
export const PROMISED = '(when DONE)';

/**
 * The run's tag; else the tag it was submitted with while it has not finished, which no other
 * run may take (`best (when DONE)`); else undefined.
 */
export function tagLabel(run: Pick<RunView, 'tag' | 'tagOnDone' | 'jobs'>): string | undefined {
  if (run.tag !== undefined) return run.tag;
  const unfinished = run.jobs.some((j) => !isFinished(j.status));
  return run.tagOnDone !== undefined && unfinished ? `${run.tagOnDone} ${PROMISED}` : undefined;
}
