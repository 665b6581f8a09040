/** From `dstack server` flags and its `--config` file to the backends' settings. */
import type { z } from 'zod';
import { UsageError } from '../../core/errors.js';
import { ShellWordsError, splitShellWords } from '../shell-words.js';
import { readServerConfig } from '../../server/backends/config-file.js';
import { resolveSlurmOptions, slurmEntry, type SlurmBackendOptions } from '../../server/backends/slurm/options.js';

/** The flags backend-flags.ts declares, as commander hands them over. */
export interface BackendFlags {
  config?: string;
  backend?: string;
  slurmPartition?: string;
  slurmAccount?: string;
  slurmWorkDir?: string;
  slurmServerUrl?: string;
  slurmDstack?: string;
  slurmSbatchArgs?: string;
  slurmPoll?: string;
  slurmDocker?: boolean;
  slurmPython?: string;
  slurmSbatch?: string;
  slurmSqueue?: string;
  slurmScancel?: string;
  slurmSacct?: string;
  slurmSinfo?: string;
}

/** The Slurm backend's settings, or undefined when neither the flags nor the config file ask for one. */
export async function slurmFromFlags(
  flags: BackendFlags,
  defaults: { dataDir: string; stopGraceMs: number },
): Promise<SlurmBackendOptions | undefined> {
  if (flags.backend !== undefined && flags.backend !== 'slurm') {
    throw new UsageError(`invalid --backend '${flags.backend}': the one backend is 'slurm'`);
  }
  const fromFile = flags.config ? (await readServerConfig(flags.config)).backends[0] : undefined;
  const given = Object.entries(flags).filter(([k, v]) => k.startsWith('slurm') && v !== undefined);
  if (flags.backend === undefined && !fromFile) {
    if (given.length > 0) throw new UsageError(`--${kebab(given[0]![0])} needs --backend slurm`);
    return undefined;
  }
  const commands = {
    ...fromFile?.commands,
    ...defined({
      sbatch: flags.slurmSbatch,
      squeue: flags.slurmSqueue,
      scancel: flags.slurmScancel,
      sacct: flags.slurmSacct,
      sinfo: flags.slurmSinfo,
    }),
  };
  // Flags override the file, entry by entry.
  const raw = {
    ...fromFile,
    type: 'slurm',
    ...defined({
      partition: flags.slurmPartition,
      account: flags.slurmAccount,
      'work-dir': flags.slurmWorkDir,
      'server-url': flags.slurmServerUrl,
      dstack: flags.slurmDstack,
      'sbatch-args': flags.slurmSbatchArgs === undefined ? undefined : sbatchArgs(flags.slurmSbatchArgs),
      'poll-seconds': flags.slurmPoll,
      docker: flags.slurmDocker,
      python: flags.slurmPython?.split(','),
    }),
    ...(Object.keys(commands).length > 0 ? { commands } : {}),
  };
  const parsed = slurmEntry.safeParse(raw);
  if (!parsed.success) throw new UsageError(flagError(parsed.error));
  return { ...resolveSlurmOptions(parsed.data, defaults), workDirSetting: workDirSetting(flags, fromFile, defaults) };
}

/** Where the Slurm work dir came from: its flag, the config file, or the default under the data dir. */
function workDirSetting(
  flags: BackendFlags,
  fromFile: { 'work-dir'?: string } | undefined,
  defaults: { dataDir: string },
): { setting: string; value: string } {
  if (flags.slurmWorkDir !== undefined) return { setting: '--slurm-work-dir', value: flags.slurmWorkDir };
  const inFile = fromFile?.['work-dir'];
  if (inFile !== undefined) return { setting: `work-dir in ${flags.config}`, value: inFile };
  return { setting: '--data-dir', value: defaults.dataDir };
}

/** Split as a shell would (`--comment="my team"` is one option), though none runs. */
function sbatchArgs(value: string): string[] {
  try {
    return splitShellWords(value);
  } catch (e) {
    if (e instanceof ShellWordsError) throw new UsageError(`invalid --slurm-sbatch-args: ${e.message}`);
    throw e;
  }
}

function flagError(error: z.ZodError): string {
  const issue = error.issues[0]!;
  // The entry's key, not an index within it (`sbatch-args`, not its second word).
  const key = String(issue.path.findLast((k) => typeof k === 'string') ?? '');
  const flag = issue.path[0] === 'commands' ? `--slurm-${key}` : `--slurm-${key.replace(/-seconds$/, '')}`;
  return `invalid ${flag}: ${issue.message}`;
}

function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
