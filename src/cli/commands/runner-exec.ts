/**
 * `dstack runner exec --job ID`: run one job already assigned to this runner's token, then
 * exit (0 when it ended DONE, STOPPED or ABORTED). What a Slurm batch job runs.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConflictError, UsageError } from '../../core/errors.js';
import { createLogger } from '../../logger.js';
import { runnerEnvironment } from '../../runner/environment.js';
import { ProcessExecutor } from '../../runner/executors/process-executor.js';
import { ReportingClient, runOneShot } from '../../runner/one-shot.js';
import type { Settings } from '../../settings.js';

export interface RunnerExecOptions {
  job: string;
  server?: string;
  token?: string;
  tokenFile?: string;
  workDir?: string;
}

export async function runnerExecCommand(options: RunnerExecOptions, settings: Settings): Promise<number> {
  if (!/^[0-9a-f]{12}$/.test(options.job)) throw new UsageError(`invalid --job '${options.job}': expected a job id`);
  const server = options.server ?? settings.server?.url;
  const token = options.token ?? (await readTokenFile(options.tokenFile)) ?? settings.server?.token;
  if (!server || !token) {
    throw new UsageError(
      'dstack runner exec needs --server URL and a runner token (--token, --token-file or DSTACK_TOKEN)',
    );
  }
  const workRoot = resolve(options.workDir ?? join(tmpdir(), `dstack-exec-${options.job}`));
  await mkdir(workRoot, { recursive: true });
  const logger = createLogger(`runner-exec:${options.job}`, settings.logLevel);
  const baseEnv = runnerEnvironment();
  try {
    const status = await runOneShot({
      client: new ReportingClient({ url: server, token }),
      jobId: options.job,
      workRoot,
      executor: new ProcessExecutor(workRoot),
      logger,
      baseEnv,
      stopGraceMs: settings.stopGraceSeconds * 1000,
      // Set by Slurm for the GPUs (gres) it gave the job.
      ...(baseEnv.CUDA_VISIBLE_DEVICES === undefined ? {} : { visibleGpus: baseEnv.CUDA_VISIBLE_DEVICES }),
    });
    logger.info(`job ${options.job} ended: ${status ?? 'left to the server to record'}`);
    return status === 'DONE' || status === 'STOPPED' || status === 'ABORTED' ? 0 : 1;
  } catch (e) {
    // Stopped or ended before it started here (a stop while Slurm was starting it): nothing to do.
    if (e instanceof ConflictError) {
      logger.info(e.message);
      return 0;
    }
    throw e;
  } finally {
    await rm(workRoot, { recursive: true, force: true }).catch(() => {});
  }
}

/** The token from a file that only this process should read: it is deleted once read. */
async function readTokenFile(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  let token: string;
  try {
    token = (await readFile(file, 'utf8')).trim();
  } catch (e) {
    throw new UsageError(`cannot read --token-file '${file}': ${(e as Error).message}`);
  }
  await rm(file, { force: true });
  if (!token) throw new UsageError(`--token-file '${file}' is empty`);
  return token;
}
