/** One run: its jobs as a graph and a table, its variables, its code, and what can be done to it. */
import type { ComponentChildren } from 'preact';
import type { RunView } from '../../../src/core/records.js';
import { waitingReason } from '../../../src/core/waiting-reason.js';
import { api } from '../api/client.js';
import { ControlButtons } from '../components/control-buttons.js';
import { DagView } from '../components/dag-view.js';
import { DeletedPage, wasDeleted } from '../components/deleted-page.js';
import { DownloadButton } from '../components/download-button.js';
import { ErrorBox } from '../components/error-box.js';
import { KeyValues } from '../components/key-values.js';
import { JobRef } from '../components/job-ref.js';
import { jobHref, Link } from '../components/link.js';
import { hasTag, RunTag } from '../components/run-tag.js';
import { StatusBadge } from '../components/status-badge.js';
import { ago, dateTime, jobsDurationLabel } from '../lib/format.js';
import { usePoll } from '../lib/use-poll.js';
import { useTitle } from '../lib/use-title.js';

export function RunPage({ name }: { name: string }) {
  const run = usePoll((signal) => api.run(name, signal), 2000, name);
  const deleted = wasDeleted(run.error, run.data);
  useTitle(`${name}${deleted ? ' deleted' : run.data ? ` ${run.data.status}` : ''}`);
  if (deleted) return <DeletedPage what={`Run ${name}`} />;
  if (!run.data) return <main>{run.error ? <ErrorBox error={run.error} /> : <p class="muted">loading…</p>}</main>;
  const view = run.data;
  const took = jobsDurationLabel(view.jobs);
  return (
    <main>
      <div class="page-head">
        <h1>
          {view.name} <StatusBadge status={view.status} />
        </h1>
        <ControlButtons target={view.name} noun="run" jobs={view.jobs} taggable onDone={run.refresh} />
      </div>
      <p class="summary">
        workflow <b>{view.workflow}</b>
        {hasTag(view) && (
          <>
            {' '}
            · tag{' '}
            <b>
              <RunTag run={view} />
            </b>
          </>
        )}{' '}
        · by {view.user} · submitted <span title={dateTime(view.submittedAt)}>{ago(view.submittedAt)}</span>
        {took !== undefined && ` · ran ${took}`}
      </p>
      <ErrorBox error={run.error} />
      <section>
        <div class="section-head">
          <h2>Jobs</h2>
          <DownloadButton
            label="Download logs"
            title="every job's log as one text file, as dstack logs prints the run's"
            path={`/runs/${encodeURIComponent(view.name)}/log`}
            name={`${view.name}.log`}
          />
        </div>
        <DagView jobs={view.jobs} />
        <JobTable run={view} />
      </section>
      <div class="columns">
        <section>
          <h2>Variables</h2>
          <Variables run={view} />
        </section>
        <section>
          <h2>Code</h2>
          <CodeInfo run={view} />
        </section>
      </div>
    </main>
  );
}

function CodeInfo({ run }: { run: RunView }) {
  const { repo } = run;
  const rows: [string, ComponentChildren][] = [
    ['project', run.project],
    ['root', <code>{repo.root}</code>],
  ];
  if (repo.remote) rows.push(['remote', repo.remote]);
  if (repo.branch) rows.push(['branch', repo.branch]);
  if (repo.commit) rows.push(['commit', <code>{repo.commit}</code>]);
  rows.push(['uncommitted changes', repo.dirty === undefined ? 'unknown' : repo.dirty ? 'yes' : 'no']);
  return <KeyValues rows={rows} />;
}

function JobTable({ run }: { run: RunView }) {
  const byId = new Map(run.jobs.map((j) => [j.id, j]));
  return (
    <div class="table-scroll">
      <table class="jobs">
        <thead>
          <tr>
            <th>Job</th>
            <th>Workflow</th>
            <th>Status</th>
            <th>Reason</th>
            <th>Runner</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {run.jobs.map((job) => {
            const took = jobsDurationLabel([job]);
            return (
              <tr key={job.id} data-job={job.id}>
                <td>
                  <Link href={jobHref(job.id)}>{job.id}</Link>
                  {job.cachedFrom && (
                    <span class="muted">
                      {' '}
                      cached ← <JobRef id={job.cachedFrom} anotherUser={job.cachedFromAnotherUser} />
                    </span>
                  )}
                </td>
                <td>{job.workflow}</td>
                <td>
                  <StatusBadge status={job.status} />
                </td>
                {/* A waiting job says why, as `dstack status` does: the server names only some reasons. */}
                <td>{waitingReason(job, byId)?.reason ?? job.reason ?? ''}</td>
                <td>{job.runner ?? ''}</td>
                <td>{took ?? ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The command line's overrides, then each job's resolved variables. */
function Variables({ run }: { run: RunView }) {
  return (
    <>
      <h3>Given on the command line</h3>
      <KeyValues rows={Object.entries(run.overrides)} empty="none: every variable has its default" />
      {run.jobs.map((job) => (
        <div key={job.id}>
          <h3>
            {job.workflow} <span class="muted">({job.id})</span>
          </h3>
          <KeyValues rows={Object.entries(job.spec.variables)} />
        </div>
      ))}
    </>
  );
}
