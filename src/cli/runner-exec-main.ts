#!/usr/bin/env node
/**
 * `dstack runner exec` without the rest of the CLI: what a Slurm batch job starts by default
 * (`node …/dist/cli/runner-exec-main.js [runner exec] --job ID --server URL --token-file FILE
 * --work-dir DIR`). Flags, messages and exit codes are those of `dstack runner exec`. Why a file
 * of its own: every Slurm job pays this process's start before its commands run, and the full
 * CLI (commander, every command's definition) is start-up it does not need.
 */
import { readSettings } from '../settings.js';
import { parseRunnerExecArgs, runnerExecCommand } from './commands/runner-exec.js';
import { restoreDeferredCaCerts } from './deferred-ca.js';
import { dropStderrErrors } from './stdio-errors.js';

restoreDeferredCaCerts();
dropStderrErrors();

let settings: ReturnType<typeof readSettings> | undefined;
try {
  settings = readSettings();
  process.exitCode = await runnerExecCommand(parseRunnerExecArgs(process.argv.slice(2)), settings);
} catch (e) {
  // Loaded only to report a failure: it brings the CLI's colours (a CommonJS package, slow to
  // load from an ES module), which the way to a job's first command does without.
  const { reportError } = await import('./errors.js');
  process.exitCode = reportError(e, settings?.debug ?? false);
}
