/** A job's status changes, oldest first, with who made each and why. */
import type { JobEvent } from '../../../src/core/records.js';
import { dateTime } from '../lib/format.js';
import { StatusBadge } from './status-badge.js';

export function EventHistory({ events }: { events: readonly JobEvent[] }) {
  return (
    <div class="table-scroll">
      <table class="events">
        <thead>
          <tr>
            <th>When</th>
            <th>Status</th>
            <th>By</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e, i) => (
            <tr key={i}>
              <td class="nowrap">{dateTime(e.at)}</td>
              <td class="nowrap">
                {e.from && <span class="muted">{e.from.toLowerCase()} → </span>}
                <StatusBadge status={e.to} />
              </td>
              <td>{e.actor}</td>
              <td>{e.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
