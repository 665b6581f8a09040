/**
 * Which Slurm job runs which dstack job, kept in the database (`slurm_jobs`), so that a
 * restarted server, on the same data folder or a new one, goes on tracking (and can cancel)
 * what it submitted. Read once at the start; this backend is the only writer of its rows,
 * so the list in memory is the table's. Only unfinished submissions are listed.
 */
import { readFile, rm } from 'node:fs/promises';
import { z } from 'zod';
import type { SlurmJobRecord, Store } from '../../store/store.js';

export type TrackedJob = SlurmJobRecord;

/** The file that versions before the table kept the list in (`<data-dir>/slurm/jobs.json`). */
const legacyFile = z.object({
  version: z.literal(1),
  jobs: z.array(
    z.object({
      jobId: z.string(),
      slurmId: z.string(),
      submittedAt: z.number(),
      dir: z.string().optional(),
      termAt: z.number().optional(),
      cancelAt: z.number().optional(),
      endedAt: z.number().optional(),
    }),
  ),
});

export class TrackedJobs {
  /** Each job's writes in order: a put and a remove racing must reach the database as they were made. */
  private readonly writing = new Map<string, Promise<unknown>>();

  private constructor(
    private readonly store: Store,
    private readonly backend: string,
    private readonly jobs: Map<string, TrackedJob>,
  ) {}

  /**
   * The jobs backend `backend` tracks. `legacy`: a jobs.json an older version wrote, whose
   * records move into the database (then the file goes), so that an upgrade loses none.
   */
  static async open(store: Store, backend: string, legacy?: string): Promise<TrackedJobs> {
    if (legacy) await importLegacy(store, backend, legacy);
    const jobs = new Map((await store.slurmJobs(backend)).map((j) => [j.jobId, j]));
    return new TrackedJobs(store, backend, jobs);
  }

  all(): TrackedJob[] {
    return [...this.jobs.values()];
  }

  get(jobId: string): TrackedJob | undefined {
    return this.jobs.get(jobId);
  }

  /** Add or replace a job's record, durably. */
  put(job: TrackedJob): Promise<void> {
    this.jobs.set(job.jobId, { ...job });
    return this.inOrder(job.jobId, () => this.store.putSlurmJob(this.backend, job));
  }

  /**
   * Remove a job's record if it is still that of Slurm job `slurmId` (a resumed job's new
   * submission may have replaced it); says whether it did.
   */
  async remove(jobId: string, slurmId: string): Promise<boolean> {
    if (this.jobs.get(jobId)?.slurmId !== slurmId) return false;
    this.jobs.delete(jobId);
    await this.inOrder(jobId, () => this.store.deleteSlurmJob(jobId, slurmId));
    return true;
  }

  private inOrder(jobId: string, write: () => Promise<unknown>): Promise<void> {
    const done = (this.writing.get(jobId) ?? Promise.resolve()).catch(() => {}).then(write);
    this.writing.set(jobId, done);
    void done
      .finally(() => {
        if (this.writing.get(jobId) === done) this.writing.delete(jobId);
      })
      .catch(() => {});
    return done.then(() => {});
  }
}

async function importLegacy(store: Store, backend: string, file: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  let parsed: z.infer<typeof legacyFile>;
  try {
    parsed = legacyFile.parse(JSON.parse(text));
  } catch (e) {
    throw new Error(`${file} is not a list of Slurm jobs dstack wrote: ${(e as Error).message}`, { cause: e });
  }
  for (const job of parsed.jobs) {
    // A job pruned since has nothing left to track.
    if (await store.getJob(job.jobId)) await store.putSlurmJob(backend, job);
  }
  await rm(file);
}
