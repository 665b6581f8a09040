/** `dstack stop [-a] (RUN | JOB)` and `dstack resume (JOB | RUN)`. */
import { UsageError } from '../../core/errors.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';

export async function stopCommand(
  target: string,
  options: { abort?: boolean; grace?: string },
  settings: Settings,
): Promise<number> {
  let grace: number | undefined;
  if (options.grace !== undefined) {
    grace = Number(options.grace);
    if (!Number.isFinite(grace) || grace < 0) {
      throw new UsageError(`invalid --grace '${options.grace}': expected seconds, like 30`);
    }
  }
  const client = await connect(settings);
  const changed = await client.stop(target, options.abort ?? false, grace);
  if (changed.length === 0)
    process.stdout.write(`nothing to ${options.abort ? 'abort' : 'stop'}: '${target}' has no unfinished jobs\n`);
  for (const job of changed) process.stdout.write(`${job.id} ${job.workflow} ${job.status}\n`);
  return 0;
}

export async function resumeCommand(target: string, settings: Settings): Promise<number> {
  const client = await connect(settings);
  for (const job of await client.resume(target)) process.stdout.write(`${job.id} ${job.workflow} ${job.status}\n`);
  return 0;
}
