#!/usr/bin/env node
/** The `dstack` command line. */
import { readSettings } from '../settings.js';
import { restoreDeferredCaCerts } from './deferred-ca.js';
import { reportError } from './errors.js';
import type { Result } from './program.js';
import { handleStdioErrors } from './stdio-errors.js';

restoreDeferredCaCerts();

handleStdioErrors();

async function main(): Promise<void> {
  let settings;
  try {
    settings = readSettings();
  } catch (e) {
    // A setting that is no value (DSTACK_STOP_GRACE=abc): said as any bad input is.
    process.exitCode = reportError(e, process.argv.includes('--debug'));
    return;
  }
  const debug = process.argv.includes('--debug') || settings.debug;
  const argv = process.argv.filter((a) => a !== '--debug');
  try {
    let result: Result;
    if (argv[2] === 'run') {
      // `dstack run` reads its own arguments (a workflow's variables are free-form flags), so
      // its hot path skips loading commander: a good share of a small run's start-up.
      const { runCommand } = await import('./commands/run.js');
      result = await runCommand(argv.slice(3), settings, process.cwd());
    } else {
      const { buildProgram, CommanderError } = await import('./program.js');
      let pending: Promise<Result> | undefined;
      try {
        await buildProgram(settings, (r) => (pending = r)).parseAsync(argv);
      } catch (e) {
        if (!(e instanceof CommanderError)) throw e;
        process.exitCode = e.exitCode === 0 ? 0 : 2;
        return;
      }
      result = pending ? await pending : 0;
    }
    if (result !== 'keep-alive') process.exitCode = result;
  } catch (e) {
    process.exitCode = reportError(e, debug);
    // An error ends the command, even a 'keep-alive' one that failed to start: whatever it left
    // open (a database driver's socket) must not keep the process waiting. Unref'd, this only
    // fires when something else still holds the process, after its output has had time to go.
    setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
  }
}

const EXIT_GRACE_MS = 1000;

void main();
