/**
 * `dstack runner exec --job ID`: run one job already assigned to this runner's token, then
 * exit (0 when it ended DONE, STOPPED or ABORTED). What a Slurm batch job runs.
 */
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { TokenSource } from '../../client/client-options.js';
import { RunnerClient } from '../../client/runner-client.js';
import { retrying, RUNNER_OUTAGE_MS, runnerRetry, type RetryPolicy } from '../../client/retry.js';
import { serverNotUpYet } from '../../client/server-up.js';
import type { Assignment } from '../../core/api.js';
import { ConflictError, UsageError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../logger.js';
import { runnerEnvironment } from '../../runner/environment.js';
import { ReportingClient } from '../../runner/reporting-client.js';
import { makePrivateFolder } from '../../files/private-folder.js';
import type { Settings } from '../../settings.js';

export interface RunnerExecOptions {
  job: string;
  server?: string;
  token?: string;
  tokenFile?: string;
  workDir?: string;
  /** The squeue that tells whether Slurm is ending the batch job (the server's; default: on PATH). */
  squeue?: string;
}

/**
 * The flags of `dstack runner exec` for the lean entry point (cli/runner-exec-main.ts), which
 * commander does not parse. Leading `runner exec` words are skipped, so that a batch script's
 * `DSTACK_COMMAND runner exec …` works whether the command names main.js or that entry.
 */
export function parseRunnerExecArgs(argv: readonly string[]): RunnerExecOptions {
  const args = argv[0] === 'runner' && argv[1] === 'exec' ? argv.slice(2) : argv;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        job: { type: 'string' },
        server: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        'work-dir': { type: 'string' },
        squeue: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`dstack runner exec: ${(e as Error).message}`);
  }
  const text = (name: string) => (typeof values[name] === 'string' ? values[name] : undefined);
  const job = text('job');
  if (job === undefined) throw new UsageError("dstack runner exec: required option '--job <id>' not specified");
  const options: RunnerExecOptions = { job };
  const server = text('server');
  const token = text('token');
  const tokenFile = text('token-file');
  const workDir = text('work-dir');
  const squeue = text('squeue');
  if (server !== undefined) options.server = server;
  if (token !== undefined) options.token = token;
  if (tokenFile !== undefined) options.tokenFile = tokenFile;
  if (workDir !== undefined) options.workDir = workDir;
  if (squeue !== undefined) options.squeue = squeue;
  return options;
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
  await makePrivateFolder(
    workRoot,
    options.workDir === undefined
      ? { setting: 'TMPDIR', value: tmpdir() }
      : { setting: '--work-dir', value: options.workDir },
  );
  const logger = createLogger(`runner-exec:${options.job}`, settings.logLevel);
  const baseEnv = runnerEnvironment();
  // Asked for first, then the job-running modules load while the server answers: both are on
  // the way to the job's first command. The rejection is handled where runOneShot awaits it.
  const tokenSource = givenToken(options);
  const assignment = fetchAssignment(
    new RunnerClient({ url: server, token, tokenSource }),
    options.job,
    server,
    logger,
  );
  assignment.catch(() => {});
  // Once the job is under way, retried as any runner's requests: each is safe to repeat
  // (client/retry.ts), and a dropped connection must not fail a job that may have queued for hours.
  // Through an outage of the server, as `runner start` does: a job done must not fail for it (Slurm's time limit still ends the wait).
  const client = new ReportingClient({
    url: server,
    token,
    tokenSource,
    retry: runnerRetry(logger, RUNNER_OUTAGE_MS),
  });
  try {
    const [{ runOneShot }, { ProcessExecutor }] = await Promise.all([
      import('../../runner/one-shot.js'),
      import('../../runner/executors/process-executor.js'),
    ]);
    const status = await runOneShot({
      client,
      assignment,
      jobId: options.job,
      workRoot,
      // A helper beside it ends the job (its group, its container) should this process die in
      // a way Slurm does not follow to the job (docs/slurm.md).
      executor: new ProcessExecutor(workRoot, { guard: true, stopGraceMs: settings.stopGraceSeconds * 1000 }),
      logger,
      baseEnv,
      stopGraceMs: settings.stopGraceSeconds * 1000,
      // Its job aborted and failed on the server already; the reports retried in vain would hold the process.
      onRefused: () => void rm(workRoot, { recursive: true, force: true }).finally(() => process.exit(1)),
      // Set by Slurm in a batch job, which is what this command runs in.
      ...(process.env.SLURM_JOB_ID
        ? { batchJob: { id: process.env.SLURM_JOB_ID, squeue: options.squeue ?? 'squeue' } }
        : {}),
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

/**
 * The job's assignment. A server that refuses connections (or whose proxy answers 502/503) is
 * waited for as long as the job's reports would wait for it: Slurm starts a job that queued for
 * hours whenever it likes, a server's restart (an upgrade) included, which must not fail the job.
 * A name that does not resolve, a refused token, anything else, is a mistake said at once.
 */
function fetchAssignment(client: RunnerClient, job: string, server: string, logger: Logger): Promise<Assignment> {
  const policy: RetryPolicy = {
    forMs: runnerRetry(logger).forMs,
    onRetry: (error, delayMs) => {
      const why = (error as Error).message.replace(`cannot reach the dstack server at ${server}: `, '');
      logger.warn(`the dstack server at ${server} does not answer (${why}); trying again in ${delayMs} ms`);
    },
  };
  return retrying(() => client.runnerAssignment(job), policy, undefined, undefined, serverNotUpYet);
}

/** Where the token came from, and why it may be refused: what a refusal says (client/errors.ts). */
function givenToken(options: RunnerExecOptions): TokenSource {
  const from =
    options.token !== undefined
      ? '--token'
      : options.tokenFile !== undefined
        ? `--token-file ${options.tokenFile}`
        : 'DSTACK_TOKEN';
  return {
    what: `the runner token (${from})`,
    fix:
      'it was replaced (dstack runners token) or deleted (dstack runners delete), which fails the jobs given it, ' +
      'or it is not a token of this server',
  };
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
