/** `dstack logs [-f] [-s SINCE] (RUN | JOB)`. */
import pc from 'picocolors';
import type { OutputLine } from '../../core/log-frames.js';
import { UsageError } from '../../core/errors.js';
import { endedWithRunner, isFinished, resumableJobs } from '../../core/job-status.js';
import type { JobRecord, RunView } from '../../core/records.js';
import { targetNames } from '../../core/run-names.js';
import { waitingReason } from '../../core/waiting-reason.js';
import type { Settings } from '../../settings.js';
import { cachedLogNotes } from '../cached-log-notes.js';
import { LogPrinter } from '../log-printer.js';
import { connect } from '../connect.js';
import { colorStatus, parseSince, printable } from '../format.js';
import { noteWaiting } from '../waiting-notes.js';
import { withWorkflowHint } from '../workflow-hint.js';

/** The CLI's printer: a line left unfinished by one batch goes on with the next. */
export const printer = new LogPrinter();

/** A follow's stream broke and it is reconnecting (`dstack logs -f`, `dstack run`): say so, once an outage. */
export function noteInterrupted(e: Error): void {
  process.stderr.write(pc.dim(`[dstack] log stream interrupted (${e.message}); resuming\n`));
}

/** The follow's stream is open again after `noteInterrupted`. */
export function noteResumed(): void {
  process.stderr.write(pc.dim('[dstack] log stream resumed\n'));
}

/**
 * After a follow has ended: a job that ended with its runner (`runner lost`, `runner
 * restarted`), not by its report, may have lines spooled that the server still takes when the
 * runner comes back, so the follow may have missed lines that `dstack logs` will show.
 */
export function noteUndeliveredLines(jobs: readonly JobRecord[]): void {
  for (const job of jobs.filter((j) => j.status === 'FAILED' && endedWithRunner(j.reason))) {
    process.stderr.write(
      `${pc.dim('[dstack]')} its runner may still send log lines it had not delivered: see dstack logs ${job.id}\n`,
    );
  }
}

/**
 * After a follow has ended: how to go on with what a stop paused (`target`: the run or job
 * followed, `jobs`: those it showed), as the reason of a job its runner's restart stopped says.
 */
export function noteResumable(target: string, jobs: readonly JobRecord[]): void {
  const stopped = resumableJobs(jobs).filter((j) => j.status === 'STOPPED');
  if (stopped.length === 0) return;
  const what =
    jobs.length === 1
      ? 'it starts again with the artifacts it saved'
      : 'its stopped jobs start again with the artifacts they saved';
  process.stderr.write(`resume it with 'dstack resume ${target}': ${what}\n`);
}

/**
 * Print log lines; when they come from several jobs, each is prefixed with its workflow.
 * Resolves once the terminal has taken them: the caller reads no more until then.
 */
export function printLines(lines: readonly OutputLine[], jobs: readonly JobRecord[]): Promise<void> | undefined {
  printer.print(lines, jobs);
  return printer.drained();
}

export async function logsCommand(
  target: string,
  options: { follow?: boolean; since?: string },
  settings: Settings,
): Promise<number> {
  let since: number | undefined;
  if (options.since !== undefined) {
    const parsed = parseSince(options.since);
    if (parsed === null) {
      throw new UsageError(
        `invalid --since '${options.since}': use a relative time like 5m, 2h, 1d, 1w or an ISO time like 2026-01-31T12:00`,
      );
    }
    since = parsed;
  }
  const client = await connect(settings);
  const run = await withWorkflowHint(client, target, 'logs', () => client.getRun(target)); // a run name or a job id
  const jobs = run.jobs.filter((j) => targetNames(target, run.name, j.id));
  const notes = await cachedLogNotes(client, jobs);
  const print = (lines: readonly OutputLine[]) =>
    notes ? notes.print(lines, (some) => printLines(some, jobs)) : printLines(lines, jobs);
  if (options.follow) {
    const waiting = noteWaiting(client, run.name, new Set(jobs.map((j) => j.id)));
    try {
      await client.followLogs(target, {
        ...(since !== undefined ? { since } : {}),
        onLines: (lines) => (waiting.heard(), print(lines)),
        ...(notes ? { onJobs: (records: JobRecord[]) => notes.update(records) } : {}),
        onInterrupted: noteInterrupted,
        onResumed: noteResumed,
      });
    } finally {
      waiting.stop();
    }
    printer.end();
    return followedEnd(await client.getRun(target), target);
  }
  // Page by page: a long log is never held in memory whole.
  const heard = new Set<string>();
  for await (const page of client.logPages(target, since)) {
    for (const line of page) heard.add(line.jobId);
    await print(page);
  }
  printer.end();
  // A job that printed nothing, failed before it started (no Docker engine, a failed
  // dependency) or still waiting, would leave the read silent: say where it stands. The exit
  // status is the read's, 0, as for a job that printed and failed: `logs -f` and `status` tell the end.
  const byId = new Map(run.jobs.map((j) => [j.id, j]));
  for (const job of jobs) if (!heard.has(job.id) && job.status !== 'DONE') noteStanding(job, byId);
  return 0;
}

/**
 * `[dstack] train (id) ended FAILED: reason`, or `… is SUBMITTED: reason` for a job not finished
 * (what it waits for, as `dstack status` says it); `byId`: the jobs of its run.
 */
function noteStanding(job: JobRecord, byId: ReadonlyMap<string, JobRecord>): void {
  const reason = waitingReason(job, byId)?.reason ?? job.reason;
  const why = reason ? `: ${printable(reason)}` : '';
  const where = isFinished(job.status) ? 'ended' : 'is';
  process.stderr.write(`${pc.dim('[dstack]')} ${job.ref} (${job.id}) ${where} ${colorStatus(job.status)}${why}\n`);
}

/**
 * How a follow ends, as `dstack run` does: 0 when every job followed is DONE, else 1 and a
 * line for each that is not, so that `run -d` then `logs -f` in a script keeps the result.
 */
function followedEnd(run: RunView, target: string): number {
  const failed = run.jobs.filter((j) => targetNames(target, run.name, j.id) && j.status !== 'DONE');
  const byId = new Map(run.jobs.map((j) => [j.id, j]));
  for (const job of failed) {
    noteStanding(job, byId);
    noteUndeliveredLines([job]);
  }
  noteResumable(
    target,
    run.jobs.filter((j) => targetNames(target, run.name, j.id)),
  );
  return failed.length > 0 ? 1 : 0;
}
