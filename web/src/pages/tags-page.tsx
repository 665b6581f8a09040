/** Tagged runs: the names workflows depend on as WORKFLOW:TAG. */
import { api } from '../api/client.js';
import { ErrorBox } from '../components/error-box.js';
import { Link, runHref } from '../components/link.js';
import { ago, dateTime } from '../lib/format.js';
import { usePoll } from '../lib/use-poll.js';

export function TagsPage() {
  const tags = usePoll((signal) => api.tags(signal), 5000, 'tags');
  const list = tags.data ?? [];
  // A tag is per project: the same name in several projects says which is which.
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
        <table class="tags">
          <thead>
            <tr>
              <th>Tag</th>
              <th>Run</th>
              {showProject && <th>Project</th>}
              <th>Workflow</th>
              <th>Jobs</th>
              <th>Submitted</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.name}>
                <td>
                  <b>{r.tag}</b>
                </td>
                <td>
                  <Link href={runHref(r.name)}>{r.name}</Link>
                </td>
                {showProject && <td>{r.project}</td>}
                <td>{r.workflow}</td>
                <td>{r.jobs.map((j) => j.workflow).join(', ')}</td>
                <td title={dateTime(r.submittedAt)}>{ago(r.submittedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
