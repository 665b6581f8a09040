/** `dstack status [RUN] [--last N] [--all] [--workflow WF] [--status S] [--json]`: runs and their jobs, as in the reference docs; the project's, or all. */
import { UsageError } from '../../core/errors.js';
import { isJobStatus, JOB_STATUSES, type JobStatus } from '../../core/job-status.js';
import { LISTED_RUNS_RULE, MAX_LISTED_RUNS } from '../../core/request-limits.js';
import { ANOTHER_USERS_JOB, type JobRecord, type RunView } from '../../core/records.js';
import { closest } from '../../core/suggest.js';
import { waitingReason } from '../../core/waiting-reason.js';
import { tagLabel } from '../tag-label.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { withWorkflowHint } from '../workflow-hint.js';
import { anotherUsersOnly } from '../whose-runs.js';
import { beforeRemoteHint, keyBeforeRemote, listingPlace } from '../project-scope.js';
import { ago, colorStatus, printable, styled, table, variablesLabel, type Cell } from '../format.js';

export async function statusCommand(
  run: string | undefined,
  options: { last?: string; all?: boolean; workflow?: string; status?: string; json?: boolean },
  settings: Settings,
): Promise<number> {
  if (run !== undefined) {
    // They choose which runs to show; a named run is shown whatever they say, so they would be ignored.
    const option =
      options.last !== undefined
        ? `--last ${options.last}`
        : options.all
          ? '--all'
          : options.workflow !== undefined
            ? `--workflow ${options.workflow}`
            : options.status !== undefined
              ? `--status ${options.status}`
              : undefined;
    if (option !== undefined)
      throw new UsageError(
        `${option} chooses which runs to show, and takes no RUN: 'dstack status ${run}' shows that run, ` +
          `'dstack status ${option}' the runs it chooses`,
      );
  }
  let last: number | undefined;
  if (options.last !== undefined) {
    // Digits only: `Number` would take `0x10` and `1e3`.
    last = Number(options.last);
    if (!/^\d+$/.test(options.last) || last < 1 || last > MAX_LISTED_RUNS)
      throw new UsageError(`invalid --last '${options.last}': expected ${LISTED_RUNS_RULE}`);
  }
  if (options.workflow?.trim() === '') throw new UsageError('--workflow is empty: give a workflow name');
  const status = options.status === undefined ? undefined : statusFlag(options.status);
  const [client, place] = await Promise.all([connect(settings), run ? undefined : listingPlace(options.all, 'runs')]);
  const project = place?.key;
  const runs = run
    ? [await withWorkflowHint(client, run, 'status', () => client.getRun(run), 'run')]
    : await client.listRuns({ last, project, workflow: options.workflow, status });
  if (options.json) {
    process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
    return 0;
  }
  // A named run, or the runs of one project, need not say which project they are of.
  const users = await anotherUsersOnly(client, runs);
  const narrowed = [
    options.workflow === undefined
      ? ''
      : `of workflow '${options.workflow}'${await workflowHint(options.workflow, runs)}`,
    status === undefined ? '' : `with status ${status}`,
  ]
    .filter(Boolean)
    .join(' ');
  process.stdout.write(renderStatus(runs, { project: run ? '' : project, users, narrowed }) + '\n');
  // None here, yet the caller's runs of this folder may lie under the key it had before its remote.
  const previous = runs.length === 0 ? keyBeforeRemote(place) : undefined;
  if (previous && (await client.listRuns({ project: previous, last: 1, mine: true })).length > 0)
    process.stdout.write(beforeRemoteHint('runs', previous, 'dstack status --all') + '\n');
  return 0;
}

/**
 * ` (did you mean 'train'?)` for a `--workflow` that matched no run and is close to a workflow of
 * the project's file; nothing when it matched, or the file cannot be read (status needs no file).
 */
async function workflowHint(workflow: string, runs: readonly RunView[]): Promise<string> {
  if (runs.length > 0) return '';
  try {
    const { findProjectRoot } = await import('../../config/project-root.js');
    const root = findProjectRoot(process.cwd());
    if (root === undefined) return '';
    const { loadProject } = await import('../../config/project.js');
    const near = closest(
      workflow,
      (await loadProject(root)).workflows.map((w) => w.name),
    );
    return near === undefined || near === workflow ? '' : ` (did you mean '${near}'?)`;
  } catch {
    return '';
  }
}

/** `--status`'s value, as the API names it: any case of a status (`failed`, `FAILED`). */
function statusFlag(given: string): JobStatus {
  const status = given.toUpperCase();
  if (!isJobStatus(status))
    throw new UsageError(`invalid --status '${given}': expected one of ${JOB_STATUSES.join(', ')}`);
  return status;
}

/** What the STATUS column adds to a job's status: why it ended, that the cache answered, what it waits for. */
function reasonOf(job: JobRecord, byId: ReadonlyMap<string, JobRecord>): string {
  if (job.status === 'DONE')
    return job.cachedFrom ? `cached (${job.cachedFromAnotherUser ? ANOTHER_USERS_JOB : job.cachedFrom})` : '';
  return waitingReason(job, byId)?.reason ?? job.reason ?? '';
}

/** `project`: the one project the runs are of ('' when no matter); without it, a PROJECT column. */
export function renderStatus(
  runs: readonly RunView[],
  {
    project,
    now = Date.now(),
    ...options
  }: {
    project?: string | undefined;
    now?: number;
    users?: boolean;
    /** What `--workflow` and `--status` asked for (`of workflow 'train'`): none is not "no runs yet". */
    narrowed?: string;
  } = {},
): string {
  const projects = project === undefined;
  // An admin's listing holds other users' runs: whose each is, once they are not all one user's,
  // or not the caller's (`users`: whose-runs.ts).
  const users = options.users === true || new Set(runs.map((r) => r.user)).size > 1;
  const rows: Cell[][] = [];
  for (const run of runs) {
    const vars = variablesLabel(run.overrides);
    const target = run.jobs.find((j) => j.workflow === run.workflow) ?? run.jobs[run.jobs.length - 1];
    rows.push([
      run.name,
      ...(users ? [run.user] : []),
      ...(projects ? [run.project] : []),
      tagLabel(run) ?? '<none>',
      '',
      run.workflow,
      vars,
      ago(run.submittedAt, now),
      target?.runner ?? '',
      styled(colorStatus(run.status)),
    ]);
    const byId = new Map(run.jobs.map((j) => [j.id, j]));
    for (const job of run.jobs) {
      const reason = reasonOf(job, byId);
      rows.push([
        '',
        ...(users ? [''] : []),
        ...(projects ? [''] : []),
        '',
        job.id,
        job.ref,
        // The overrides this job took: those of variables its workflow has (a global one, its own).
        variablesLabel(Object.fromEntries(Object.entries(run.overrides).filter(([n]) => n in job.spec.variables))),
        ago(job.submittedAt, now),
        job.runner ?? '',
        styled(colorStatus(job.status), reason ? ` ${reason}` : ''),
      ]);
    }
  }
  if (rows.length === 0 && options.narrowed)
    return projects
      ? `No runs ${options.narrowed}.`
      : `No runs ${options.narrowed} in project ${printable(project)} ('dstack status --last 10' lists its latest runs, 'dstack status --all' every project's).`;
  if (rows.length === 0)
    return projects
      ? 'No runs yet. Start one with: dstack run WORKFLOW'
      : `No runs in project ${printable(project)} yet ('dstack status --all' lists every project's). Start one with: dstack run WORKFLOW`;
  const head = [
    'RUN',
    ...(users ? ['USER'] : []),
    ...(projects ? ['PROJECT'] : []),
    'TAG',
    'JOB',
    'WORKFLOW',
    'VARIABLES',
    'SUBMITTED',
  ];
  return table([...head, 'RUNNER', 'STATUS'], rows);
}
