/** Terminal output: tables like the reference docs', relative times, statuses with colour. */
import pc from 'picocolors';
import type { JobStatus } from '../core/job-status.js';
import { shellQuote } from '../core/variables.js';

export { printable } from '../core/printable.js';
export { styled, table, type Cell } from './table.js';

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} sec ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hours ago`;
  return `${Math.round(h / 24)} days ago`;
}

export function colorStatus(status: JobStatus): string {
  switch (status) {
    case 'DONE':
      return pc.green(status);
    case 'FAILED':
    case 'ABORTED':
      return pc.red(status);
    case 'STOPPED':
    case 'STOPPING':
    case 'ABORTING':
      return pc.yellow(status);
    default:
      return pc.cyan(status);
  }
}

export function variablesLabel(vars: Record<string, string>): string {
  // Quoted as a shell would need them: `--epochs '3 --lr 9'` is one value, not two flags.
  return Object.entries(vars)
    .map(([k, v]) => `--${k} ${shellQuote(v)}`)
    .join(' ');
}

/** Milliseconds per unit of a duration (`--since 5m`, `--older-than 2w`). */
export const DURATION_UNITS = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** `30s`, `5m`, `2h`, `1d`, `1w` before now, or an ISO 8601 time; null when unreadable. */
export function parseSince(text: string, now = Date.now()): number | null {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (m) return now - Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS];
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}
