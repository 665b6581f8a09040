/**
 * `dstack logs` of a cached job prints the log of the job it reuses: a note on stderr says so
 * before that job's first line, so that stdout stays the log alone for a pipe.
 */
import pc from 'picocolors';
import type { Client } from '../client/client.js';
import type { OutputLine } from '../core/log-frames.js';
import { cacheSource, type JobRecord } from '../core/records.js';

export interface CachedLogNotes {
  /** Newer records of the followed jobs (`logs -f`): a job that joined another may run itself after all. */
  update(jobs: readonly JobRecord[]): void;
  /** Print `lines` with `print`, with a note written before the first line of each cached job. */
  print(
    lines: readonly OutputLine[],
    print: (lines: readonly OutputLine[]) => Promise<void> | undefined,
  ): Promise<void>;
}

/**
 * Notes for the cached jobs among `jobs`, or undefined when none is (no request made). Only jobs
 * submitted as cached ever are: `cachedFrom` is set at submission.
 */
export async function cachedLogNotes(client: Client, jobs: readonly JobRecord[]): Promise<CachedLogNotes | undefined> {
  const records = new Map(jobs.map((j) => [j.id, j]));
  if (!jobs.some((j) => j.cachedFrom)) return undefined;
  // The run of each source job of the caller's own (another user's is named as such alone).
  const sources = [...new Set(jobs.flatMap((j) => (j.cachedFrom && !j.cachedFromAnotherUser ? [j.cachedFrom] : [])))];
  const runs = new Map(
    await Promise.all(
      sources.map(
        async (id) =>
          [
            id,
            await client.getRun(id).then(
              (r) => r.name,
              () => undefined,
            ),
          ] as const,
      ),
    ),
  );
  const noted = new Set<string>();
  const note = (job: JobRecord) => {
    noted.add(job.id);
    const run = job.cachedFrom && runs.get(job.cachedFrom);
    process.stderr.write(
      pc.dim(`[dstack] ${job.ref}: cached; the log of ${cacheSource(job)}${run ? ` (run ${run})` : ''}\n`),
    );
  };
  return {
    update(updated) {
      for (const job of updated) if (records.has(job.id)) records.set(job.id, job);
    },
    async print(lines, print) {
      let from = 0;
      for (const [i, line] of lines.entries()) {
        const job = records.get(line.jobId);
        // A job that joined another shows no line of its own while it waits (its own once it runs itself).
        if (!job?.cachedFrom || noted.has(job.id)) continue;
        if (i > from) await print(lines.slice(from, i));
        from = i;
        note(job);
      }
      await print(from === 0 ? lines : lines.slice(from));
    },
  };
}
