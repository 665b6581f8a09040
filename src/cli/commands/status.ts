/** `dstack status [RUN] [--last N] [--json]`: runs and their jobs, as in the reference docs. */
import { UsageError } from '../../core/errors.js';
import type { JobRecord, RunView } from '../../core/records.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { ago, colorStatus, table, variablesLabel } from '../format.js';

export async function statusCommand(
  run: string | undefined,
  options: { last?: string; json?: boolean },
  settings: Settings,
): Promise<number> {
  let last: number | undefined;
  if (options.last !== undefined) {
    last = Number(options.last);
    if (!Number.isInteger(last) || last < 1)
      throw new UsageError(`invalid --last '${options.last}': expected a positive whole number`);
  }
  const client = await connect(settings);
  const runs = run ? [await client.getRun(run)] : await client.listRuns(last);
  if (options.json) {
    process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(renderStatus(runs) + '\n');
  return 0;
}

/** What the STATUS column adds to a job's status: why it ended, that the cache answered, what it waits for. */
function reasonOf(job: JobRecord, byId: ReadonlyMap<string, JobRecord>): string {
  if (job.status === 'DONE') return job.cachedFrom ? `cached (${job.cachedFrom})` : '';
  if (job.reason) return job.reason;
  if (job.status !== 'SUBMITTED') return '';
  const waitingFor = job.dependsOn.map((id) => byId.get(id)).filter((d) => d !== undefined && d.status !== 'DONE');
  return waitingFor.length > 0 ? `waiting for ${waitingFor.map((d) => d!.ref).join(', ')}` : '';
}

export function renderStatus(runs: readonly RunView[], now = Date.now()): string {
  const rows: string[][] = [];
  for (const run of runs) {
    const vars = variablesLabel(run.overrides);
    const target = run.jobs.find((j) => j.workflow === run.workflow) ?? run.jobs[run.jobs.length - 1];
    rows.push([
      run.name,
      run.tag ?? '<none>',
      '',
      run.workflow,
      vars,
      ago(run.submittedAt, now),
      target?.runner ?? '',
      colorStatus(run.status),
    ]);
    const byId = new Map(run.jobs.map((j) => [j.id, j]));
    for (const job of run.jobs) {
      const reason = reasonOf(job, byId);
      rows.push([
        '',
        '',
        job.id,
        job.ref,
        // The overrides this job took: those of variables its workflow has (a global one, its own).
        variablesLabel(Object.fromEntries(Object.entries(run.overrides).filter(([n]) => n in job.spec.variables))),
        ago(job.submittedAt, now),
        job.runner ?? '',
        colorStatus(job.status) + (reason ? ` ${reason}` : ''),
      ]);
    }
  }
  if (rows.length === 0) return 'No runs yet. Start one with: dstack run WORKFLOW';
  return table(['RUN', 'TAG', 'JOB', 'WORKFLOW', 'VARIABLES', 'SUBMITTED', 'RUNNER', 'STATUS'], rows);
}
