/** The runners: what each has, what is free, what it runs, and when it last spoke. */
import type { Capacity } from '../../../src/core/resources.js';
import { api } from '../api/client.js';
import { ErrorBox } from '../components/error-box.js';
import { jobHref, Link } from '../components/link.js';
import { StatusBadge } from '../components/status-badge.js';
import { ago, dateTime, formatSize } from '../lib/format.js';
import { usePoll } from '../lib/use-poll.js';
import { useTitle } from '../lib/use-title.js';

export function RunnersPage() {
  const runners = usePoll((signal) => api.runners(signal), 3000, 'runners');
  useTitle('Runners');
  const list = runners.data ?? [];
  return (
    <main>
      <div class="page-head">
        <h1>Runners</h1>
      </div>
      <ErrorBox error={runners.error} />
      {runners.data && list.length === 0 && <p class="empty">No runner has registered.</p>}
      {list.length > 0 && (
        <div class="table-scroll">
          <table class="runners">
            <thead>
              <tr>
                <th>Runner</th>
                <th>Host</th>
                <th>Status</th>
                <th>Resources</th>
                <th>Free</th>
                <th>Jobs</th>
                <th>Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.name} data-runner={r.name}>
                  <td>{r.name}</td>
                  <td>{r.host}</td>
                  <td class={`runner-${r.status.toLowerCase().replace(' ', '-')}`}>{r.status.toLowerCase()}</td>
                  <td>{r.status === 'NOT STARTED' ? '—' : capacity(r.total)}</td>
                  <td>{r.status === 'NOT STARTED' ? '—' : capacity(r.free)}</td>
                  <td>
                    {r.jobs.map((j) => (
                      <div key={j.id}>
                        <Link href={jobHref(j.id)}>{j.id}</Link> {j.workflow} <StatusBadge status={j.status} />
                      </div>
                    ))}
                    {r.otherJobs > 0 && <div class="muted">{r.otherJobs} of other users</div>}
                    {r.jobs.length === 0 && r.otherJobs === 0 && <span class="muted">idle</span>}
                  </td>
                  <td title={dateTime(r.updatedAt)}>{ago(r.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

function capacity(c: Capacity): string {
  const gpus = c.gpus.length ? `, ${c.gpus.length}× ${[...new Set(c.gpus.map((g) => g.name))].join('/')}` : '';
  return `${Number(c.cpu.toFixed(2))} CPU, ${formatSize(c.memory)}${gpus}`;
}
