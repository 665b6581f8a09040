/**
 * The runs, newest first, updating every 2 s. The server returns the newest N (50, more on
 * request) that match the filters, so the page stays fast however many runs the database
 * holds, and a filter finds old runs on its first page.
 */
import { useEffect, useState } from 'preact/hooks';
import { JOB_STATUSES } from '../../../src/core/job-status.js';
import type { RunView } from '../../../src/core/records.js';
import { api } from '../api/client.js';
import { ErrorBox } from '../components/error-box.js';
import { Link, runHref } from '../components/link.js';
import { RunTag } from '../components/run-tag.js';
import { StatusBadge } from '../components/status-badge.js';
import { ago, dateTime, jobsDurationLabel } from '../lib/format.js';
import { navigate } from '../lib/router.js';
import { usePoll } from '../lib/use-poll.js';
import { useQueryParam } from '../lib/use-query-param.js';
import { useTitle } from '../lib/use-title.js';

const PAGE = 50;

export function RunsPage() {
  const [limit, setLimit] = useState(PAGE);
  const [status, setStatus] = useQueryParam('status');
  const [workflow, setWorkflow] = useQueryParam('workflow');
  const [project, setProject] = useQueryParam('project');
  const filters = { status, workflow, project };
  // Other filters, other runs: a filter changed starts again from the first page.
  const filterBy = (set: (value: string) => void) => (value: string) => {
    set(value);
    setLimit(PAGE);
  };
  // One key for every page size of the same filters: showing more keeps the rows already there while it loads.
  const runs = usePoll((signal) => api.runs(limit, filters, signal), 2000, `runs ${JSON.stringify(filters)}`);
  // What the filters offer: every workflow and project of the runs, old ones too; new ones rarely appear.
  const known = usePoll((signal) => api.workflows(signal), 30_000, 'workflows');
  useTitle('Runs');
  const { refresh } = runs;
  useEffect(() => refresh(), [limit, refresh]);
  const all = runs.data ?? [];
  const offered = [...(known.data ?? []), ...all];
  // The chosen value stays a choice when no run is known to have it (a filter from the address).
  const workflows = choices(
    offered.filter((r) => !project || r.project === project).map((r) => r.workflow),
    workflow,
  );
  // Runs of several projects (core/projects.ts) say which is whose, and can be narrowed to one.
  const projects = choices(
    offered.map((r) => r.project),
    project,
  );
  const filtered = Boolean(status || workflow || project);
  const now = Date.now();

  return (
    <main>
      <div class="page-head">
        <h1>Runs</h1>
        <div class="filters">
          {projects.length > 1 && (
            <Filter label="project" all="all projects" value={project} set={filterBy(setProject)} options={projects} />
          )}
          <Filter
            label="status"
            all="all statuses"
            value={status}
            set={filterBy(setStatus)}
            options={JOB_STATUSES}
            show={(s) => s.toLowerCase()}
          />
          <Filter
            label="workflow"
            all="all workflows"
            value={workflow}
            set={filterBy(setWorkflow)}
            options={workflows}
          />
        </div>
      </div>
      <ErrorBox error={runs.error} />
      {runs.data && all.length === 0 && !filtered && (
        <p class="empty">
          No runs yet. Run a workflow: <code>dstack run WORKFLOW</code>
        </p>
      )}
      {runs.data && all.length === 0 && filtered && <p class="empty">No run matches {describe(filters)}.</p>}
      {all.length > 0 && (
        <div class="table-scroll">
          <table class="runs">
            <thead>
              <tr>
                <th>Run</th>
                {projects.length > 1 && <th>Project</th>}
                <th>Workflow</th>
                <th>Tag</th>
                <th>Status</th>
                <th>Submitted</th>
                <th>Duration</th>
                <th>Who</th>
              </tr>
            </thead>
            <tbody>
              {all.map((run) => (
                <RunRow key={run.name} run={run} now={now} showProject={projects.length > 1} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {all.length >= limit && (
        <button class="more" onClick={() => setLimit(limit + PAGE)}>
          Show {PAGE} more
        </button>
      )}
    </main>
  );
}

/** The filters chosen, in words: `status failed, workflow train`. */
const describe = ({ status, workflow, project }: Record<'status' | 'workflow' | 'project', string>): string =>
  [status && `status ${status.toLowerCase()}`, workflow && `workflow ${workflow}`, project && `project ${project}`]
    .filter(Boolean)
    .join(', ');

/** The values to choose from, and `chosen` (unless all: ''), sorted, each once. */
const choices = (values: readonly string[], chosen: string): string[] =>
  [...new Set(chosen ? [...values, chosen] : values)].sort();

/** A select that narrows the list to one value, or to all of them (''). */
function Filter(props: {
  label: string;
  all: string;
  value: string;
  set: (value: string) => void;
  options: readonly string[];
  show?: (value: string) => string;
}) {
  const { label, all, value, set, options, show = (v) => v } = props;
  return (
    <select aria-label={label} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
      <option value="">{all}</option>
      {options.map((o) => (
        <option key={o} value={o}>
          {show(o)}
        </option>
      ))}
    </select>
  );
}

function RunRow({ run, now, showProject }: { run: RunView; now: number; showProject: boolean }) {
  const took = jobsDurationLabel(run.jobs, now);
  return (
    <tr class="clickable" data-run={run.name} onClick={() => navigate(runHref(run.name))}>
      <td>
        <Link href={runHref(run.name)}>{run.name}</Link>
      </td>
      {showProject && <td>{run.project}</td>}
      <td>{run.workflow}</td>
      <td>
        <RunTag run={run} />
      </td>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td title={dateTime(run.submittedAt)}>{ago(run.submittedAt, now)}</td>
      <td>{took ?? (run.jobs.every((j) => j.cachedFrom) ? 'cached' : '')}</td>
      <td>{run.user}</td>
    </tr>
  );
}
