/** A job or run status in its colour (the colours are in styles.css, one per status). */
import type { JobStatus } from '../../../src/core/job-status.js';

export function StatusBadge({ status }: { status: JobStatus }) {
  return <span class={`status status-${status.toLowerCase()}`}>{status}</span>;
}
