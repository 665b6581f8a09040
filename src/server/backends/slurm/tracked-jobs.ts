/**
 * Which Slurm job runs which dstack job, kept in a JSON file in the server's data dir so a
 * restarted server goes on tracking (and can cancel) what it submitted. Each change rewrites
 * the file atomically (write, then rename); the list is short: only unfinished submissions.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

const trackedJob = z.object({
  jobId: z.string(),
  slurmId: z.string(),
  /** Epoch ms of the sbatch. */
  submittedAt: z.number(),
  /** The submission's folder (batch.ts attemptDir); absent in files of versions that had one per job. */
  dir: z.string().optional(),
  /** Epoch ms when a stop's `scancel --signal=TERM` was sent. */
  termAt: z.number().optional(),
  /** Epoch ms when the Slurm job was cancelled (an abort, or a stop whose grace ran out). */
  cancelAt: z.number().optional(),
  /** Epoch ms when Slurm first showed the job ended by itself (time limit, a cancel outside dstack). */
  endedAt: z.number().optional(),
});

export type TrackedJob = z.infer<typeof trackedJob>;

const fileSchema = z.object({ version: z.literal(1), jobs: z.array(trackedJob) });

export class TrackedJobs {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly jobs: Map<string, TrackedJob>,
  ) {}

  static async open(file: string): Promise<TrackedJobs> {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const jobs = new Map<string, TrackedJob>();
    if (text !== undefined) {
      let parsed: z.infer<typeof fileSchema>;
      try {
        parsed = fileSchema.parse(JSON.parse(text));
      } catch (e) {
        throw new Error(`${file} is not a list of Slurm jobs dstack wrote: ${(e as Error).message}`, { cause: e });
      }
      for (const job of parsed.jobs) jobs.set(job.jobId, job);
    }
    return new TrackedJobs(file, jobs);
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
    return this.save();
  }

  /**
   * Remove a job's record if it is still that of Slurm job `slurmId` (a resumed job's new
   * submission may have replaced it); says whether it did.
   */
  async remove(jobId: string, slurmId: string): Promise<boolean> {
    if (this.jobs.get(jobId)?.slurmId !== slurmId) return false;
    this.jobs.delete(jobId);
    await this.save();
    return true;
  }

  private save(): Promise<void> {
    const text = JSON.stringify({ version: 1, jobs: this.all() }, null, 1);
    this.writing = this.writing
      .catch(() => {})
      .then(async () => {
        await mkdir(dirname(this.file), { recursive: true });
        await writeFile(`${this.file}.tmp`, text, { mode: 0o600 });
        await rename(`${this.file}.tmp`, this.file);
      });
    return this.writing;
  }
}
