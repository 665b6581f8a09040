/** One job: its log following live, its artifacts, its status history and what it ran. */
import { dependentsOf, endedWithRunner, isFinished } from '../../../src/core/job-status.js';
import type { JobView } from '../../../src/core/api.js';
import type { JobRecord } from '../../../src/core/records.js';
import { waitingReason } from '../../../src/core/waiting-reason.js';
import { api } from '../api/client.js';
import { ArtifactTreeView } from '../components/artifact-tree-view.js';
import { ControlButtons } from '../components/control-buttons.js';
import { DeletedPage, wasDeleted } from '../components/deleted-page.js';
import { DownloadButton } from '../components/download-button.js';
import { ErrorBox } from '../components/error-box.js';
import { EventHistory } from '../components/event-history.js';
import { KeyValues } from '../components/key-values.js';
import { JobRef } from '../components/job-ref.js';
import { Link, runHref } from '../components/link.js';
import { LogView } from '../components/log-view.js';
import { StatusBadge } from '../components/status-badge.js';
import { duration, formatSize, timeRan } from '../lib/format.js';
import { usePoll } from '../lib/use-poll.js';
import { useTitle } from '../lib/use-title.js';

export function JobPage({ id }: { id: string }) {
  const view = usePoll((signal) => loadJob(id, signal), 2000, id);
  const deleted = wasDeleted(view.error, view.data);
  const shown = view.data?.job;
  useTitle(shown ? `${shown.workflow} ${id} ${deleted ? 'deleted' : shown.status}` : id);
  if (deleted) {
    return <DeletedPage what={`Job ${id}${view.data ? ` (of run ${view.data.run.name})` : ''}`} />;
  }
  if (!view.data) return <main>{view.error ? <ErrorBox error={view.error} /> : <p class="muted">loading…</p>}</main>;
  const { job, run, events, runJobs } = view.data;
  const finished = isFinished(job.status);
  const ran = timeRan(events);
  const reason = waitingReason(job, new Map(runJobs.map((j) => [j.id, j])))?.reason ?? job.reason;
  /** What a download of the job is saved as, as the server names it too (api/download-routes.ts). */
  const fileName = `${run.name}-${job.workflow}-${job.id}`;
  return (
    <main>
      <div class="page-head">
        <h1>
          {job.workflow} <span class="muted">{job.id}</span> <StatusBadge status={job.status} />
        </h1>
        <ControlButtons
          target={job.id}
          noun="job"
          jobs={[job]}
          onDone={view.refresh}
          dependents={{
            run: run.name,
            load: () => api.run(run.name).then((r) => dependentsOf(r.jobs, [job.id])),
          }}
        />
      </div>
      <p class="summary">
        run <Link href={runHref(run.name)}>{run.name}</Link>
        {job.runner && ` · runner ${job.runner}`}
        {job.exitCode !== undefined && ` · exit code ${job.exitCode}`}
        {ran && ` · ran ${duration(ran.ms)}${ran.attempts > 1 ? ` in ${ran.attempts} attempts` : ''}`}
        {job.cachedFrom && (
          <>
            {' '}
            · cached: reuses <JobRef id={job.cachedFrom} anotherUser={job.cachedFromAnotherUser} />
          </>
        )}
      </p>
      {reason && job.status !== 'DONE' && <p class={`reason reason-${job.status.toLowerCase()}`}>{reason}</p>}
      <ErrorBox error={view.error} />
      <section>
        <div class="section-head">
          <h2>Log</h2>
          <DownloadButton
            label="Download log"
            title="the whole log as a text file, as dstack logs prints it"
            path={`/jobs/${encodeURIComponent(job.id)}/log`}
            name={`${fileName}.log`}
          />
        </div>
        <LogView
          target={job.id}
          job={{
            live: !finished,
            transitions: `${job.status}:${events.length}`,
            lateLines: job.status === 'FAILED' && endedWithRunner(job.reason),
          }}
          onJobsChange={view.refresh}
        />
      </section>
      <div class="columns">
        <section>
          <h2>Artifacts</h2>
          <ArtifactTreeView jobId={job.id} finished={finished} archiveName={`${fileName}-artifacts.tar`} />
        </section>
        <section>
          <h2>Status history</h2>
          <EventHistory events={events} />
        </section>
      </div>
      <section>
        <h2>Spec</h2>
        <JobSpecInfo job={job} />
      </section>
    </main>
  );
}

/**
 * The job, and the jobs of its run while it waits on them: why a job waits for its
 * dependencies (`waiting for prepare`) depends on their statuses, which the server's reason leaves out.
 */
async function loadJob(id: string, signal: AbortSignal): Promise<JobView & { runJobs: JobRecord[] }> {
  const view = await api.job(id, signal);
  const { job } = view;
  const waitsOnJobs = job.status === 'SUBMITTED' && !job.reason && job.dependsOn.length > 0;
  return { ...view, runJobs: waitsOnJobs ? (await api.run(view.run.name, signal)).jobs : [job] };
}

function JobSpecInfo({ job }: { job: JobRecord }) {
  const { spec } = job;
  const r = spec.resources;
  const resources = [`${r.cpu} CPU`, r.memory ? `${formatSize(r.memory)} memory` : '', r.gpu ? `${r.gpu} GPU` : '']
    .filter(Boolean)
    .join(', ');
  return (
    <KeyValues
      rows={[
        ['provider', spec.provider],
        ...(spec.image ? [['image', spec.image] as [string, string]] : []),
        ['commands', <pre class="commands">{spec.commands.join('\n')}</pre>],
        ['artifacts', spec.artifacts.join(', ') || 'none'],
        ['resources', resources],
        [
          'depends on',
          job.dependsOn.length === 0
            ? 'nothing'
            : job.dependsOn.map((dep) => (
                <span key={dep}>
                  <JobRef id={dep} />{' '}
                </span>
              )),
        ],
        [
          'variables',
          Object.entries(spec.variables)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ') || 'none',
        ],
      ]}
    />
  );
}
