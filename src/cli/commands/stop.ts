/** `dstack stop [-a] (RUN | JOB)` and `dstack resume (JOB | RUN)`. */
import type { Client } from '../../client/client.js';
import { UsageError } from '../../core/errors.js';
import { STOP_GRACE_RULE, stopGraceSeconds } from '../../core/request-limits.js';
import { dependentsOf, isFinished, isResumable } from '../../core/job-status.js';
import { ANOTHER_USERS_JOB, type JobRecord } from '../../core/records.js';
import { resumePlan } from '../../core/resume-plan.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { withWorkflowHint } from '../workflow-hint.js';

export async function stopCommand(
  target: string,
  options: { abort?: boolean; grace?: string },
  settings: Settings,
): Promise<number> {
  if (options.abort && options.grace !== undefined)
    throw new UsageError(
      '--grace is how long a stop waits between SIGTERM and SIGKILL, and --abort kills at once: ' +
        `give one or the other ('dstack stop --grace ${options.grace} ${target}' saves the artifacts)`,
    );
  const grace = options.grace === undefined ? undefined : parseGrace(options.grace);
  const client = await connect(settings);
  const changed = await withWorkflowHint(client, target, 'stop', () =>
    client.stop(target, options.abort ?? false, grace),
  );
  if (changed.length === 0) process.stdout.write(await nothingChanged(client, target, options.abort ?? false));
  for (const job of changed) process.stdout.write(`${job.id} ${job.ref} ${job.status}\n`);
  // A stop pauses: say how to go on (an abort keeps nothing to go on from).
  if (!options.abort && changed.length > 0) process.stderr.write(await resumeHint(client, target, changed));
  return 0;
}

/**
 * How to go on once stopped. A job's stop stops the jobs waiting on it too, as it ends (their
 * reason `dependency stopped: …`), and `dstack resume JOB` would leave them stopped: they are
 * named, and the hint is the run's resume, which takes them all.
 */
async function resumeHint(client: Client, target: string, changed: readonly JobRecord[]): Promise<string> {
  const run = changed[0]!.runName;
  const waiting = target === run ? [] : stoppedWith((await client.getRun(run)).jobs, changed);
  if (waiting.length === 0)
    return `once stopped, 'dstack resume ${target}' starts ${changed.length === 1 ? 'it' : 'them'} again\n`;
  return (
    `the jobs waiting on it stop with it: ${waiting.map((j) => `${j.ref} (${j.id})`).join(', ')}\n` +
    `once stopped, 'dstack resume ${run}' starts them all again\n`
  );
}

/** The jobs of a run that wait on `stopped`, or that their stop has stopped already (a job stopped before it started). */
function stoppedWith(jobs: readonly JobRecord[], stopped: readonly JobRecord[]): JobRecord[] {
  return dependentsOf(
    jobs,
    stopped.map((j) => j.id),
  ).filter((j) => j.status === 'SUBMITTED' || (j.status === 'STOPPED' && j.reason?.startsWith('dependency stopped')));
}

function parseGrace(text: string): number {
  const seconds = stopGraceSeconds(text);
  if (seconds === undefined) throw new UsageError(`invalid --grace '${text}': expected ${STOP_GRACE_RULE}, like 30`);
  return seconds;
}

/** Why a stop changed nothing: the jobs have ended, or are already on their way to an end. */
async function nothingChanged(client: Client, target: string, abort: boolean): Promise<string> {
  const jobs = await client
    .getRun(target)
    .then((run) => run.jobs)
    .catch(() => client.getJob(target).then((view) => [view.job]))
    .catch(() => []);
  const ending = jobs.filter((j) => !isFinished(j.status));
  if (ending.length === 0) return `nothing to ${abort ? 'abort' : 'stop'}: '${target}' has no unfinished jobs\n`;
  const what = (j: { status: string }) =>
    j.status === 'UPLOADING' ? 'saving its artifacts' : j.status === 'ABORTING' ? 'being aborted' : 'stopping';
  const lines = ending.map((j) => `${j.id} ${j.ref} ${j.status}: already ${what(j)}\n`).join('');
  const abortable = !abort && ending.some((j) => j.status !== 'ABORTING');
  return lines + (abortable ? `'dstack stop -a ${target}' aborts it, keeping no artifacts\n` : '');
}

/** Each resumed job's status; one that never started may now be the cache's, or wait for the same job elsewhere. */
export async function resumeCommand(target: string, options: { tag?: boolean }, settings: Settings): Promise<number> {
  const client = await connect(settings);
  const resumed = await withWorkflowHint(client, target, 'resume', () => client.resume(target, options.tag === false));
  for (const job of resumed) {
    const cache = !job.cachedFrom
      ? ''
      : job.status === 'DONE'
        ? ` cached (${job.cachedFromAnotherUser ? ANOTHER_USERS_JOB : job.cachedFrom})`
        : `: ${job.reason}`;
    process.stdout.write(`${job.id} ${job.ref} ${job.status}${cache}\n`);
  }
  if (resumed[0] && resumed[0].runName === target) process.stderr.write(await leftBehind(client, target, resumed));
  else if (resumed[0]) process.stderr.write(await dependentsLeft(client, resumed));
  return 0;
}

/**
 * What `dstack resume JOB` left stopped: the jobs waiting on it, which its stop stopped too;
 * `dstack resume RUN` takes them as well, now or once it has ended.
 */
async function dependentsLeft(client: Client, resumed: readonly JobRecord[]): Promise<string> {
  const run = resumed[0]!.runName;
  const left = dependentsOf(
    (await client.getRun(run)).jobs,
    resumed.map((j) => j.id),
  ).filter(isResumable);
  if (left.length === 0) return '';
  const named = left.map((j) => `${j.ref} (${j.id}) ${j.status}`).join(', ');
  return `not resumed, though waiting on it: ${named}; 'dstack resume ${run}' resumes ${left.length === 1 ? 'it' : 'them'} too\n`;
}

/**
 * What `dstack resume RUN` left as it ended, a line each with why and what to do instead: the
 * stopped jobs whose dependency ended for good, and the failed and aborted ones, which no resume
 * takes. The rule is core/resume-plan.ts, the dashboard's Resume dialog's too.
 */
async function leftBehind(client: Client, run: string, resumed: readonly JobRecord[]): Promise<string> {
  const { jobs, overrides } = await client.getRun(run);
  const taken = new Set(resumed.map((j) => j.id));
  return resumePlan(jobs, overrides)
    .leaves.filter(({ job }) => !taken.has(job.id))
    .map(({ job, why }) => `not resumed: ${job.id} ${job.ref} ${job.status}: ${why}\n`)
    .join('');
}
