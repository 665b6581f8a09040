/**
 * The Slurm port over the real commands (`sbatch`, `squeue`, `sacct`, `scancel`, `sinfo`),
 * at the paths the server was given. Errors say which command at which path failed, and an
 * unreachable slurmctld is named as such.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { UnavailableError, UsageError } from '../../../core/errors.js';
import type { Logger } from '../../../logger.js';
import { parseSacct, parseSbatch, parseSinfo, parseSqueueFormatted, parseSqueueJson } from './parse.js';
import {
  SlurmUnreachableError,
  type BatchSubmission,
  type SlurmCommands,
  type SlurmJobState,
  type SlurmNode,
} from './types.js';

/** Paths (or names on PATH) of the Slurm commands. */
export interface SlurmPaths {
  sbatch: string;
  squeue: string;
  scancel: string;
  sacct: string;
  sinfo: string;
}

export interface CommandSlurmOptions {
  paths: SlurmPaths;
  /** `--partition` for sinfo (sbatch gets it with the job's options). */
  partition?: string;
  /** The commands' environment (the server's, less dstack's secrets). */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** One command's time limit, ms (default 60 s: an unreachable slurmctld takes ~10 s to say so). */
  timeoutMs?: number;
}

const UNREACHABLE =
  /Unable to contact slurm controller|Socket timed out|Zero Bytes were transmitted|Connection refused/i;
const GONE = /Invalid job id|already completing or completed/i;
/**
 * Job ids a squeue or sacct call asks about: one argument, well within Linux's 128 KiB a
 * command-line argument, whatever the number of jobs tracked.
 */
const IDS_PER_CALL = 1000;

/** A command that ran and failed: its stderr says why. */
export class SlurmCommandError extends Error {
  constructor(
    readonly command: keyof SlurmPaths,
    readonly stderr: string,
    message: string,
  ) {
    super(message);
    this.name = 'SlurmCommandError';
  }
}

export class CommandSlurm implements SlurmCommands {
  private squeueJson = true;
  private sacctMode: 'accounting' | 'completion' | 'none' = 'accounting';

  constructor(private readonly options: CommandSlurmOptions) {}

  async check(): Promise<void> {
    for (const command of Object.keys(this.options.paths) as (keyof SlurmPaths)[]) {
      const path = this.options.paths[command];
      const dirs = path.includes('/') ? [''] : (this.options.env.PATH ?? '').split(delimiter).filter(Boolean);
      const found = await Promise.all(
        dirs.map((d) =>
          access(d ? join(d, path) : path, constants.X_OK).then(
            () => true,
            () => false,
          ),
        ),
      );
      if (!found.includes(true)) {
        const where = path.includes('/') ? `at '${path}'` : `on PATH (${this.options.env.PATH ?? ''})`;
        throw new UnavailableError(`${command} not found ${where}: set its path with --slurm-${command}`);
      }
    }
  }

  async submit(submission: BatchSubmission): Promise<string> {
    return parseSbatch(await this.run('sbatch', ['--parsable', ...submission.args], submission.script));
  }

  async states(slurmIds: readonly string[]): Promise<Map<string, SlurmJobState>> {
    const found = new Map<string, SlurmJobState>();
    for (const ids of chunks(slurmIds, IDS_PER_CALL))
      for (const [id, state] of await this.queue(ids)) found.set(id, state);
    const missing = slurmIds.filter((id) => !found.has(id));
    // Jobs that left squeue's view (MinJobAge): ask the accounting or the job completion log.
    for (const ids of chunks(missing, IDS_PER_CALL))
      for (const [id, state] of await this.accounting(ids)) found.set(id, state);
    return found;
  }

  /**
   * Only these jobs, not the whole queue: a shared cluster's has tens of thousands, and reading it
   * every poll loads slurmctld. `-t all`: a job just ended stays listed for MinJobAge, with Slurm's
   * reason (a time limit) even where sacct knows nothing.
   */
  private async queue(ids: readonly string[]): Promise<Map<string, SlurmJobState>> {
    const filter = ['-t', 'all', `--jobs=${ids.join(',')}`];
    if (this.squeueJson) {
      try {
        const listed = parseSqueueJson(await this.run('squeue', ['--json', ...filter]));
        const wanted = new Set(ids);
        if ([...listed.keys()].some((id) => !wanted.has(id))) {
          // This squeue's --json ignores filters (22.05's man page says so) and prints the whole queue.
          this.options.logger.info('squeue --json lists jobs it was not asked for here; using squeue -o');
          this.squeueJson = false;
        }
        return new Map([...listed].filter(([id]) => wanted.has(id)));
      } catch (e) {
        if (e instanceof UnavailableError) throw e;
        if (isGone(e)) return new Map();
        // An old Slurm, or one without its JSON plugins: the formatted listing says enough.
        this.options.logger.info('squeue --json is not usable here; using squeue -o', { error: String(e) });
        this.squeueJson = false;
      }
    }
    try {
      return parseSqueueFormatted(await this.run('squeue', ['-h', '-o', '%i|%T|%r', ...filter]), ids);
    } catch (e) {
      if (isGone(e)) return new Map();
      throw e;
    }
  }

  private async accounting(ids: readonly string[]): Promise<Map<string, SlurmJobState>> {
    const args = ['-n', '-P', '-X', '-o', 'jobid,state,exitcode', '-j', ids.join(',')];
    if (this.sacctMode === 'accounting') {
      try {
        return parseSacct(await this.run('sacct', args), ids);
      } catch (e) {
        if (!(e instanceof SlurmCommandError) || !/accounting storage is disabled/i.test(e.stderr)) throw e;
        this.sacctMode = 'completion'; // no slurmdbd: the job completion log (JobCompType) may know
      }
    }
    if (this.sacctMode === 'completion') {
      try {
        return parseSacct(await this.run('sacct', ['-c', ...args.filter((a) => a !== '-X')]), ids);
      } catch (e) {
        if (!(e instanceof SlurmCommandError)) throw e;
        this.options.logger.warn('sacct knows no finished jobs here (no accounting, no job completion log)', {
          error: e.message,
        });
        this.sacctMode = 'none';
      }
    }
    return new Map();
  }

  async cancel(slurmId: string, signal?: 'TERM'): Promise<void> {
    // `--batch`: a batch job's processes all belong to its batch step, and the runner there
    // (the batch shell, exec'd) forwards the signal to the job's process group itself.
    const args = signal ? [`--signal=${signal}`, '--batch', slurmId] : [slurmId];
    try {
      await this.run('scancel', args);
    } catch (e) {
      if (isGone(e)) return; // it ended meanwhile
      throw e;
    }
  }

  async nodes(): Promise<SlurmNode[]> {
    const partition = this.options.partition ? ['-p', this.options.partition] : [];
    return parseSinfo(await this.run('sinfo', ['-h', '-N', ...partition, '-o', '%N|%c|%m|%G|%T']));
  }

  async partitions(): Promise<string[]> {
    const lines = (await this.run('sinfo', ['-h', '-a', '-o', '%R'])).split('\n').map((l) => l.trim());
    return [...new Set(lines.filter((l) => l !== ''))];
  }

  async testOptions(args: readonly string[]): Promise<string | undefined> {
    try {
      await this.run('sbatch', ['--test-only', ...args, '--wrap', 'true']);
      return undefined;
    } catch (e) {
      if (!(e instanceof SlurmCommandError)) throw e;
      const said = e.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('Try "sbatch --help"'));
      // sbatch's own reading of its options fails before slurmctld is asked (exit 255): a typo,
      // whatever the cluster's state. Anything else may be that state (drained nodes, a full QOS).
      if (said.some((l) => BAD_OPTION.test(l)))
        throw new UsageError(
          `sbatch refuses an option of --slurm-sbatch-args (or sbatch-args in --config): ${said.join('; ')}; ` +
            'correct it (sbatch --help lists its options)',
        );
      return said.join('; ') || e.message;
    }
  }

  private run(command: keyof SlurmPaths, args: string[], input?: string): Promise<string> {
    const path = this.options.paths[command];
    return new Promise((resolve, reject) => {
      const child = execFile(
        path,
        args,
        { env: this.options.env, timeout: this.options.timeoutMs ?? 60_000, maxBuffer: 256 << 20 },
        (error, stdout, stderr) => {
          if (!error) return resolve(stdout);
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT')
            return reject(
              new UnavailableError(`${command} not found at '${path}': set its path with --slurm-${command}`),
            );
          if (code === 'EACCES')
            return reject(new UnavailableError(`cannot run ${command} at '${path}': permission denied`));
          const said = stderr.trim().split('\n').slice(-3).join('; ') || error.message;
          if (error.killed) return reject(new UnavailableError(`${command} did not answer in time: ${said}`));
          if (UNREACHABLE.test(stderr))
            return reject(new SlurmUnreachableError(`slurmctld is unreachable: ${command} at '${path}' said: ${said}`));
          reject(new SlurmCommandError(command, stderr, `${command} ${args.join(' ')} failed: ${said}`));
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }
}

/**
 * A job Slurm no longer knows: scancel's answer for an ended job, and squeue's for a lone id that
 * left its view (`slurm_load_jobs error: Invalid job id specified`, exit 1; of several ids it lists
 * those it knows).
 */
function isGone(e: unknown): boolean {
  return e instanceof SlurmCommandError && GONE.test(e.stderr);
}

/** What sbatch says of an option it cannot read: `unrecognized option '--qoss=normal'`, `Invalid --time specification`. */
const BAD_OPTION =
  /unrecognized option|invalid option|option .* (requires|doesn't allow) an argument|ambiguous|Invalid --?[\w-]+ specification/i;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
