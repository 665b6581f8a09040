/** `dstack logs [-f] [-s SINCE] (RUN | JOB)`. */
import pc from 'picocolors';
import type { LogLine } from '../../core/api.js';
import { UsageError } from '../../core/errors.js';
import type { JobRecord } from '../../core/records.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { parseSince } from '../format.js';

const COLORS = [pc.cyan, pc.magenta, pc.yellow, pc.blue, pc.green];

/** Print log lines; when they come from several jobs, each is prefixed with its workflow. */
export function printLines(lines: readonly LogLine[], jobs: readonly JobRecord[]): void {
  const prefix = new Map<string, string>();
  if (jobs.length > 1) {
    const width = Math.max(...jobs.map((j) => j.ref.length));
    jobs.forEach((j, i) => prefix.set(j.id, COLORS[i % COLORS.length]!(`${j.ref.padEnd(width)} | `)));
  }
  // In order: consecutive lines of one stream are written together.
  let chunk = '';
  let stream: LogLine['stream'] = 'stdout';
  const flush = () => {
    if (chunk) (stream === 'stderr' ? process.stderr : process.stdout).write(chunk);
    chunk = '';
  };
  for (const line of lines) {
    if (line.stream !== stream) flush();
    stream = line.stream;
    chunk += `${prefix.get(line.jobId) ?? ''}${line.text}\n`;
  }
  flush();
}

export async function logsCommand(
  target: string,
  options: { follow?: boolean; since?: string },
  settings: Settings,
): Promise<number> {
  let since: number | undefined;
  if (options.since !== undefined) {
    const parsed = parseSince(options.since);
    if (parsed === null) {
      throw new UsageError(
        `invalid --since '${options.since}': use a relative time like 5m, 2h, 1d or an ISO time like 2026-01-31T12:00`,
      );
    }
    since = parsed;
  }
  const client = await connect(settings);
  const run = await client.getRun(target); // a run name or a job id
  const jobs = run.jobs.filter((j) => j.id === target || run.name === target);
  if (options.follow) {
    await client.followLogs(target, {
      ...(since !== undefined ? { since } : {}),
      onLines: (lines) => printLines(lines, jobs),
    });
  } else {
    printLines(await client.logs(target, since), jobs);
  }
  return 0;
}
