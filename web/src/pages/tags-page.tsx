/**
 * Tagged runs: the names workflows depend on as WORKFLOW:TAG, and the tags promised to
 * unfinished runs (`dstack run --tag`), which they get once DONE, as `dstack tags list` shows them.
 */
import type { RunView } from '../../../src/core/records.js';
import { api } from '../api/client.js';
import { ErrorBox } from '../components/error-box.js';
import { Link, runHref } from '../components/link.js';
import { PROMISED } from '../components/run-tag.js';
import { ago, dateTime } from '../lib/format.js';
import { usePoll } from '../lib/use-poll.js';
import { useTitle } from '../lib/use-title.js';

export function TagsPage() {
  const tags = usePoll((signal) => api.tags(signal), 5000, 'tags');
  useTitle('Tags');
  const list = tags.data ?? [];
  // A tag is per user and project: the same name of several users or projects says whose and which it is.
  const showUser = new Set(list.map((r) => r.user)).size > 1;
  const showProject = new Set(list.map((r) => r.project)).size > 1;
  return (
    <main>
      <div class="page-head">
        <h1>Tags</h1>
      </div>
      <ErrorBox error={tags.error} />
      {tags.data && list.length === 0 && (
        <p class="empty">
          No tags yet. Tag a finished run on its page, or with <code>dstack tags add TAG RUN</code>.
        </p>
      )}
      {list.length > 0 && (
        <div class="table-scroll">
          <table class="tags">
            <thead>
              <tr>
                <th>Tag</th>
                <th>Run</th>
                {showUser && <th>User</th>}
                {showProject && <th>Project</th>}
                <th>Workflow</th>
                <th>Jobs</th>
                <th>Submitted</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.name} data-run={r.name}>
                  <td>
                    <TagCell run={r} />
                  </td>
                  <td>
                    <Link href={runHref(r.name)}>{r.name}</Link>
                  </td>
                  {showUser && <td>{r.user}</td>}
                  {showProject && <td>{r.project}</td>}
                  <td>{r.workflow}</td>
                  <td>{r.jobs.map((j) => j.workflow).join(', ')}</td>
                  <td title={dateTime(r.submittedAt)}>{ago(r.submittedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.some((r) => r.tag === undefined) && (
        <p class="muted">
          {PROMISED}: promised to an unfinished run submitted with <code>--tag</code>, which gets it once DONE;{' '}
          <code>dstack tags delete TAG</code> lets it end untagged.
        </p>
      )}
    </main>
  );
}

/** The run's tag, or the one promised to it (the server lists a promised run with `tag` unset). */
function TagCell({ run }: { run: RunView }) {
  if (run.tag !== undefined) return <b>{run.tag}</b>;
  return (
    <span class="promised" title="promised: the run gets this tag once it is DONE">
      <b>{run.tagOnDone}</b> <span class="muted">{PROMISED}</span>
    </span>
  );
}
