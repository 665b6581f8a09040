/**
 * Finished jobs' logs archived in the blob store. Logs are written on the server's disk
 * (appends, an index, live followers: log-store.ts), which S3 cannot do; once a job has
 * ended, its log is stored as one content-addressed blob and recorded in the database, so
 * that a server on a new data folder (a new machine, a lost disk) with the same database and
 * storage shows every finished job's log: the log store fetches it the first time it is read.
 * Lines that arrive after the end (a lost runner's) archive the log again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../../core/errors.js';
import { isFinished } from '../../core/job-status.js';
import type { JobRecord } from '../../core/records.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../store/store.js';
import type { BlobStore } from './blob-store.js';
import type { LogArchiveSource, LogStore } from './log-store.js';

/** A log with no lines is recorded with no blob, so that it is not taken for one left to archive. */
const EMPTY = { digest: createHash('sha256').digest('hex'), bytes: 0 };

/** A log is archived this long after its job's end or its last late line, so that a burst archives once. */
const SETTLE_MS = 1000;
/** An archive that failed (the storage down) is tried again this much later, while the server runs. */
const RETRY_MS = 60_000;
/** How long a stopping server goes on archiving what is due; the rest waits for its next start. */
const CLOSE_MS = 5000;

export class LogArchive implements LogArchiveSource {
  private logs: LogStore | undefined;
  private readonly due = new Map<string, NodeJS.Timeout>();
  /**
   * Jobs taken by a runner for the first time (not resumed) that have not ended: they have no
   * archive, so opening their log (every new job's first line) asks the store nothing.
   */
  private readonly firstRuns = new Set<string>();
  /** The start's look for logs ended without an archive. */
  private sweep: Promise<void> = Promise.resolve();
  /** Logs whose archive is due, in order, and the loop archiving them. */
  private readonly ready = new Set<string>();
  private worker: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
  ) {}

  async restore(jobId: string, into: string): Promise<boolean> {
    if (this.firstRuns.delete(jobId)) return false; // it never ended: nothing was archived
    const archive = await this.store.getLogArchive(jobId);
    if (!archive || archive.bytes === 0) return false;
    const blob = await this.blobs.get(archive.digest).catch((e: unknown) => {
      if (!(e instanceof NotFoundError)) throw e;
      throw new NotFoundError(
        `the log of job ${jobId} is archived in the server's storage as blob ${archive.digest}, which is no longer there`,
        { cause: e },
      );
    });
    await pipeline(blob, createWriteStream(into, { mode: 0o600 }));
    this.logger.info(`restored the log of job ${jobId} from the storage`, { bytes: archive.bytes });
    return true;
  }

  /**
   * Archive the logs of jobs as they end, and of those ended before without an archive (the
   * server stopped first); `jobs` is the engine's transition events.
   */
  start(logs: LogStore, jobs: { on(event: 'job', listener: (job: JobRecord) => void): unknown }): void {
    this.logs = logs;
    jobs.on('job', (job) => {
      if (isFinished(job.status)) {
        this.firstRuns.delete(job.id);
        if (job.cachedFrom === undefined) this.schedule(job.id);
      } else if (job.status === 'DOWNLOADING' && !job.resumed) this.firstRuns.add(job.id);
    });
    this.sweep = this.store.unarchivedLogs().then(
      (ids) => {
        if (ids.length > 0) this.logger.info(`archiving the logs of ${ids.length} finished jobs in the storage`);
        ids.forEach((id) => this.schedule(id));
      },
      (e: unknown) => this.logger.warn('cannot list the logs to archive', { error: (e as Error).message }),
    );
  }

  /**
   * A line came for a job that had ended: its archive is out of date, and marked so in the
   * store first, so that a server that stops before archiving it again does at its next start.
   */
  lateLines(jobId: string): void {
    this.store.markLogArchiveStale(jobId).then(
      () => this.schedule(jobId),
      (e: unknown) => {
        this.logger.warn(`cannot mark the archived log of job ${jobId} out of date`, { error: (e as Error).message });
        this.schedule(jobId);
      },
    );
  }

  private schedule(jobId: string, delayMs = SETTLE_MS): void {
    if (this.closed) return;
    clearTimeout(this.due.get(jobId));
    this.due.set(
      jobId,
      setTimeout(() => {
        this.due.delete(jobId);
        this.enqueue(jobId);
      }, delayMs).unref(),
    );
  }

  /** One archive at a time: a first start on a long history archives thousands of logs. */
  private enqueue(jobId: string): void {
    this.ready.add(jobId);
    this.worker ??= this.archiveReady();
  }

  private async archiveReady(): Promise<void> {
    await Promise.resolve(); // `worker` is set before this loop can end
    try {
      for (const id of this.ready) {
        this.ready.delete(id);
        await this.archive(id);
      }
    } finally {
      this.worker = undefined; // in the loop's last step: a log enqueued from now on starts another
    }
  }

  /** Store the log's whole appends as a blob, unless its archive already holds them. */
  async archive(jobId: string): Promise<void> {
    try {
      const log = await this.logs!.sealed(jobId);
      const earlier = await this.store.getLogArchive(jobId);
      if (earlier && earlier.lastSeq >= log.lastSeq) return;
      if (log.bytes === 0) {
        await this.store.setLogArchive(jobId, { ...EMPTY, lastSeq: 0, archivedAt: Date.now() });
        return;
      }
      const read = () => createReadStream(log.file, { start: 0, end: log.bytes - 1 });
      const hash = createHash('sha256');
      await pipeline(read(), hash);
      const digest = hash.digest('hex');
      if ((await this.blobs.missing([digest])).length > 0) await this.blobs.put(digest, read());
      await this.store.setLogArchive(jobId, { digest, bytes: log.bytes, lastSeq: log.lastSeq, archivedAt: Date.now() });
    } catch (e) {
      if (e instanceof NotFoundError) return; // the job was pruned meanwhile
      // The log stays on this disk: tried again in a while, and by the next start if this one stops first.
      this.logger.warn(`cannot archive the log of job ${jobId} in the storage; trying again in a minute`, {
        error: (e as Error).message,
      });
      this.schedule(jobId, RETRY_MS);
    }
  }

  /**
   * The server is stopping: archive what is due for a few seconds, then finish the archive under
   * way and leave the rest to the next start's sweep (a long backlog, or a storage that is down,
   * must not hold the shutdown).
   */
  async close(): Promise<void> {
    await this.sweep;
    this.closed = true;
    for (const [jobId, timer] of this.due) {
      clearTimeout(timer);
      this.enqueue(jobId);
    }
    this.due.clear();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_MS)));
    await Promise.race([this.idle(), deadline]);
    clearTimeout(timer);
    this.ready.clear();
    await this.idle();
  }

  private async idle(): Promise<void> {
    while (this.worker) await this.worker;
  }
}
