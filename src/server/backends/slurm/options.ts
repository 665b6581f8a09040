/**
 * The Slurm backend's settings: one schema for a `backends:` entry of the server config
 * file and for `dstack server --backend slurm --slurm-…` flags (the same names, kebab-case).
 */
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { SlurmPaths } from './command-slurm.js';
import { ownedOptionError } from './owned-options.js';

/** The resolved settings the backend runs with. */
export interface SlurmBackendOptions {
  /** The runner name its jobs show (default `slurm`). */
  name: string;
  partition?: string;
  account?: string;
  /** Paths of the Slurm commands (default: their names, found on PATH). */
  paths: SlurmPaths;
  /** Absolute path of the folder the server and the compute nodes share (token files, Slurm output, workspaces). */
  workDir: string;
  /** Where `workDir` was set, for an error that names it (default `--slurm-work-dir`). */
  workDirSetting?: { setting: string; value: string };
  /** The server's URL as the compute nodes reach it (default: the URL it listens on). */
  serverUrl?: string;
  /** Shell command line that runs dstack on a node (default: this node binary and this install's main.js). */
  dstackCommand?: string;
  /** More sbatch options, passed as given before the job's own (which win); none that dstack owns (owned-options.ts). */
  sbatchArgs: string[];
  /** How often Slurm's queue is read, ms (default 1000). */
  pollMs: number;
  /**
   * How many times what the partition can run at once dstack keeps submitted to Slurm (default
   * 2): the jobs beyond it wait in Slurm's queue, and Slurm starts one the moment another ends
   * instead of waiting for dstack to hear of the end and submit the next. 1: never more than fits.
   */
  queueDepth: number;
  /** A stop's grace period when the stop did not set one, ms. */
  stopGraceMs: number;
  /**
   * Whether the nodes have a Docker engine, which jobs with an `image:` need (default false: HPC
   * clusters rarely do). The scheduler offers such jobs only to runners that have one.
   */
  docker: boolean;
  /**
   * The Pythons (`3`, `3.11`) a python job without an image can name on the nodes; undefined:
   * those found on the server's PATH at its start, which batch jobs inherit.
   */
  python?: string[];
}

const text = z.string().trim().min(1);
/** The Slurm backend's runner name when its config names none: an admin's `runners add` may not take it. */
export const SLURM_RUNNER = 'slurm';

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a name like slurm or gpu-cluster');

const POLL_RULE = 'expected seconds above 0 and at most 60, like 1 or 0.5';
const DEPTH_RULE = 'expected a whole number from 1 to 100, like 2';

/** One `backends:` entry (all values as written: the YAML reader keeps scalars as text). */
export const slurmEntry = z
  .object({
    type: z.literal('slurm'),
    name: name.optional(),
    partition: text.optional(),
    account: text.optional(),
    'work-dir': text.optional(),
    'server-url': z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    dstack: text.optional(),
    'sbatch-args': z
      .array(
        z
          .string()
          .trim()
          .min(1, 'an sbatch option is empty')
          .superRefine((arg, ctx) => {
            const refused = ownedOptionError(arg);
            if (refused) ctx.addIssue({ code: 'custom', message: refused });
          }),
      )
      .optional(),
    // zod's own words (`Invalid input: expected number, received NaN`) named no unit nor range.
    'poll-seconds': z.coerce
      .number({ error: POLL_RULE })
      .positive({ error: POLL_RULE })
      .max(60, { error: POLL_RULE })
      .optional(),
    'queue-depth': z.coerce
      .number({ error: DEPTH_RULE })
      .int({ error: DEPTH_RULE })
      .min(1, { error: DEPTH_RULE })
      .max(100, { error: DEPTH_RULE })
      .optional(),
    docker: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')], {
        error: 'expected true or false',
      })
      .optional(),
    python: z
      .array(
        z
          .string()
          .trim()
          .regex(/^\d+(\.\d+)?$/, "expected Python versions like '3' or '3.11'"),
      )
      .optional(),
    commands: z
      .object({ sbatch: text, squeue: text, scancel: text, sacct: text, sinfo: text })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export type SlurmEntry = z.infer<typeof slurmEntry>;

/** Defaults filled in: `dataDir` holds the default work dir; relative paths are taken from `cwd`. */
export function resolveSlurmOptions(
  entry: SlurmEntry,
  defaults: { dataDir: string; stopGraceMs: number; cwd?: string },
): SlurmBackendOptions {
  const cwd = defaults.cwd ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const command = (c: keyof SlurmPaths) => {
    const given = entry.commands?.[c];
    // A bare name is looked up on PATH; anything with a slash is a path.
    return given === undefined ? c : given.includes('/') ? abs(given) : given;
  };
  const options: SlurmBackendOptions = {
    name: entry.name ?? SLURM_RUNNER,
    paths: {
      sbatch: command('sbatch'),
      squeue: command('squeue'),
      scancel: command('scancel'),
      sacct: command('sacct'),
      sinfo: command('sinfo'),
    },
    workDir: abs(entry['work-dir'] ?? resolve(defaults.dataDir, 'slurm', 'work')),
    sbatchArgs: entry['sbatch-args'] ?? [],
    pollMs: Math.round((entry['poll-seconds'] ?? 1) * 1000),
    queueDepth: entry['queue-depth'] ?? 2,
    stopGraceMs: defaults.stopGraceMs,
    docker: entry.docker ?? false,
  };
  if (entry.python) options.python = entry.python;
  if (entry.partition) options.partition = entry.partition;
  if (entry.account) options.account = entry.account;
  if (entry['server-url']) options.serverUrl = entry['server-url'];
  if (entry.dstack) options.dstackCommand = entry.dstack;
  return options;
}

/** Addresses that mean "every interface": no other machine can connect to them. */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0']);

/**
 * The URL batch jobs reach the server at: `server-url` when given, else the one it listens on,
 * where a wildcard address (`--host 0.0.0.0`, `::`) becomes this machine's hostname: a compute
 * node given `http://0.0.0.0:3000` would connect to itself. `note` says when it was replaced.
 */
export function batchServerUrl(
  given: string | undefined,
  listening: { host: string; port: number },
  machine: string = hostname(),
): { url: string; note?: string } {
  if (given) return { url: given };
  const { host, port } = listening;
  if (!WILDCARDS.has(host)) return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
  const url = `http://${machine}:${port}`;
  return {
    url,
    note:
      `the server listens on every address (${host}): batch jobs reach it at ${url}, this machine's hostname; ` +
      'set --slurm-server-url (server-url) where the compute nodes know it by another name',
  };
}
