/** The `dstack` command line's commands and options (commander). */
import { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { Settings } from '../settings.js';
import { VERSION } from '../version.js';
import { addBackendFlags } from './commands/backend-flags.js';
import { refuseUnknownSubcommands } from './default-subcommand.js';
import { addHelpCommand } from './help-command.js';

// Commands are loaded when used: `dstack status` need not load the server.
const commands = {
  run: () => import('./commands/run.js'),
  status: () => import('./commands/status.js'),
  logs: () => import('./commands/logs.js'),
  artifacts: () => import('./commands/artifacts.js'),
  stop: () => import('./commands/stop.js'),
  server: () => import('./commands/server.js'),
  tags: () => import('./commands/tags.js'),
  init: () => import('./commands/init.js'),
  team: () => import('./commands/team.js'),
  tokens: () => import('./commands/tokens.js'),
  runner: () => import('./commands/runner.js'),
  runnerExec: () => import('./commands/runner-exec.js'),
  dashboard: () => import('./commands/dashboard.js'),
};

export type Result = number | 'keep-alive';

export function buildProgram(settings: Settings, done: (result: Promise<Result>) => void): Command {
  const program = new Command('dstack')
    .description('Run ML workflows defined in .dstack/workflows.yaml')
    .version(VERSION)
    // Taken off argv by main.ts before any command parses it; declared here for the help.
    .option('--debug', 'print stack traces with errors (also DSTACK_DEBUG=1)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // `dstack logs "$RUN"` with RUN unset reached the server as a request for no run ('no route GET /api/runs/').
  program.hook('preAction', (_self, action) => refuseEmptyArguments(action));

  program
    .command('run')
    .description('run a workflow (and the workflows it depends on): dstack run WORKFLOW [--VARIABLE VALUE]...')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action((args: string[]) => done(commands.run().then((m) => m.runCommand(args, settings, process.cwd()))));

  program
    .command('init')
    .description("register this git repository's remote 'origin' and its credentials, so runners clone it")
    .option(
      '--token <token>',
      'an HTTPS token that can read the remote (GitHub: a personal access token); - reads stdin',
    )
    .option('--private-key <path>', 'an SSH private key file that can read the remote')
    .option('--passphrase <passphrase>', "the private key's passphrase; - reads stdin")
    .action((opts) => done(commands.init().then((m) => m.initCommand(opts, settings, process.cwd()))));

  program
    .command('status')
    .description("show this project's runs and their jobs (by default the unfinished runs, or the last finished one)")
    .argument('[run]', 'a run name')
    .option('--last <n>', 'show the last N runs, whatever their status')
    .option('--all', "show every project's runs, not only this one's")
    .option(
      '--workflow <name>',
      'only runs of this workflow (the unfinished ones, or the last; with --last, the last N)',
    )
    .option('--status <status>', 'only runs in this status, like FAILED (the last one; with --last, the last N)')
    .option('--json', 'print JSON')
    .action((run: string | undefined, opts) =>
      done(commands.status().then((m) => m.statusCommand(run, opts, settings))),
    );

  program
    .command('logs')
    .description("print a run's or a job's log")
    .argument('<target>', 'RUN or JOB')
    .option('-f, --follow', 'keep printing new lines until the run finishes')
    .option(
      '-s, --since <since>',
      'from this time: relative (30s, 5m, 2h, 1d, 1w) or ISO 8601 (default: the whole log)',
    )
    .action((target: string, opts) => done(commands.logs().then((m) => m.logsCommand(target, opts, settings))));

  program
    .command('artifacts')
    .description("list a job's artifact files, or download them with --output")
    .argument('<job>', 'JOB')
    .allowExcessArguments() // `artifacts list JOB`, `artifacts download JOB -o DIR`: later dstack's words
    .option('-t, --total', 'the total size of each artifact')
    .option('-o, --output <dir>', 'download the artifacts into this folder')
    .action((_job: string, opts, cmd: Command) =>
      done(commands.artifacts().then((m) => m.artifactsCommand(m.artifactsTarget(cmd.args, opts), opts, settings))),
    );

  program
    .command('stop')
    .description('stop a run or a job (saving its artifacts), or abort it with --abort')
    .argument('<target>', 'RUN or JOB')
    .option('-a, --abort', 'abort at once, without saving artifacts')
    .option('--grace <seconds>', 'seconds between SIGTERM and SIGKILL (default 10)')
    .action((target: string, opts) => done(commands.stop().then((m) => m.stopCommand(target, opts, settings))));

  program
    .command('resume')
    .description('resume a stopped job (or the stopped jobs of a run) from its saved artifacts')
    .argument('<target>', 'JOB or RUN')
    .option('--no-tag', 'resume a run submitted with --tag without it (another run took the tag while it was stopped)')
    .action((target: string, opts: { tag?: boolean }) =>
      done(commands.stop().then((m) => m.resumeCommand(target, opts, settings))),
    );

  const tags = program.command('tags').description('name finished runs, to depend on them as WORKFLOW:TAG');
  refuseUnknownSubcommands(tags, 'list');
  tags
    .command('list', { isDefault: true })
    .description("list this project's tags")
    .option('--all', "list every project's tags")
    .action((opts) => done(commands.tags().then((m) => m.tagsListCommand(opts, settings))));
  tags
    .command('add')
    .description('tag a finished run')
    .argument('<tag>')
    .argument('<run>')
    .action((tag: string, run: string) => done(commands.tags().then((m) => m.tagsAddCommand(tag, run, settings))));
  tags
    .command('delete')
    .description("delete this project's tag (the run stays)")
    .argument('<tag>')
    .option('--project <key>', "another project's, as 'dstack tags list --all' names it")
    .option('--user <name>', "whose tag (admins: another user's, or a deleted user's)")
    .action((tag: string, opts) => done(commands.tags().then((m) => m.tagsDeleteCommand(tag, opts, settings))));

  program
    .command('prune')
    .description(
      "delete this project's finished, untagged runs older than --older-than, their logs and the artifacts no kept run needs " +
        "(an admin's prune takes every user's runs; runs whose jobs kept runs reuse or depend on stay)",
    )
    .option('--older-than <duration>', 'age of runs to delete: 2w, 7d, 12h, 30m', '7d')
    .option('--all-projects', "delete every project's runs, not only this one's (required outside a project)")
    .option('--dry-run', 'say what would be deleted, and delete nothing')
    .option('--include-stopped', 'delete runs with a resumable (stopped) job too; they are kept by default')
    .option('--json', "print the server's answer as JSON, every run named (the report names the first few)")
    .action((opts) => done(commands.tags().then((m) => m.pruneCommand(opts, settings))));

  program
    .command('dashboard')
    .description('open the web dashboard (prints its login link)')
    .option('--no-open', 'only print the link')
    .action((opts) => done(commands.dashboard().then((m) => m.dashboardCommand(opts, settings))));

  const config = program
    .command('config')
    .description('save a server to use (a profile in $DSTACK_HOME/config.yml), switch profiles, or list them')
    .option('--server <url>', 'the server URL')
    .option(
      '--token <token>',
      'your user token; - reads it from stdin (or set DSTACK_TOKEN): out of ps and shell history',
    )
    .option('--profile <name>', 'the profile to save (default: default), or alone: the one to use')
    .option('--local', 'use the local server again (profiles are kept)')
    .action((opts) => done(commands.team().then((m) => m.configCommand(opts, settings))));
  config
    .command('list')
    .description('list profiles (* marks the current one)')
    .action(() => done(commands.team().then((m) => m.configListCommand(settings))));
  refuseUnknownSubcommands(config);

  const users = program
    .command('users')
    .description('manage users of a team server (admin), or replace your own token (users token)');
  refuseUnknownSubcommands(users, 'list');
  users
    .command('list', { isDefault: true })
    .description('list the users, and which are admins (admin)')
    .action(() => done(commands.team().then((m) => m.usersCommand('list', undefined, settings))));
  users
    .command('add')
    .argument('<name>')
    .option('--admin', 'make them an admin, who manages users and runners and sees every run')
    .description('add a user and print their token')
    .action((name: string, opts: { admin?: boolean }) =>
      done(commands.team().then((m) => m.usersCommand('add', name, settings, opts))),
    );
  users
    .command('delete')
    .argument('<name>')
    .description(
      'delete a user: their tokens and registered repo credentials; their unfinished jobs are stopped (artifacts saved), their runs stay',
    )
    .action((name: string) => done(commands.team().then((m) => m.usersCommand('delete', name, settings))));

  users
    .command('promote')
    .argument('<name>')
    .description('make a user an admin, from their next request (their token stays)')
    .action((name: string) => done(commands.team().then((m) => m.usersCommand('promote', name, settings))));
  users
    .command('demote')
    .argument('<name>')
    .description('make an admin a plain user again (the last admin stays one)')
    .action((name: string) => done(commands.team().then((m) => m.usersCommand('demote', name, settings))));

  users
    .command('token')
    .argument('[name]', 'the user (admins); left out: yourself')
    .description(
      "issue a new token in place of a user's (yours without NAME, saved in the profile you use); the old one stops working at once",
    )
    .action((name: string | undefined) => done(commands.tokens().then((m) => m.userTokenCommand(name, settings))));

  const runners = program
    .command('runners')
    .description('list runners, or add, delete them and replace their tokens (admin)');
  refuseUnknownSubcommands(runners, 'list');
  runners
    .command('list', { isDefault: true })
    .description('list the runners: their resources, what they run, their status and jobs')
    .action(() => done(commands.team().then((m) => m.runnersCommand('list', undefined, settings))));
  runners
    .command('add')
    .argument('<name>')
    .description('add a runner and print the command that starts it')
    .action((name: string) => done(commands.team().then((m) => m.runnersCommand('add', name, settings))));
  runners
    .command('delete')
    .argument('<name>')
    .description('delete a runner and its token: its unfinished jobs fail, and the runner process exits')
    .action((name: string) => done(commands.team().then((m) => m.runnersCommand('delete', name, settings))));

  runners
    .command('token')
    .argument('<name>')
    .description("issue a new token in place of a runner's: a runner using the old one stops, its jobs failed")
    .action((name: string) => done(commands.tokens().then((m) => m.runnerTokenCommand(name, settings))));

  const runner = program.command('runner').description('run a runner on this machine');
  runner
    .command('start')
    .description('register this machine with a server and run its jobs (foreground)')
    .option('--server <url>', 'the server URL (or DSTACK_SERVER)')
    .option('--token <token>', 'a runner token from `dstack runners add NAME` (or DSTACK_TOKEN)')
    .option('--name <name>', 'the runner name (must match the token)')
    .option('--work-dir <dir>', 'where jobs run (default $DSTACK_HOME/runner)')
    .option('--cpu <n>', 'CPU cores to offer (default: all)')
    .option('--memory <size>', 'memory to offer, like 16GB (default: all)')
    .option(
      '--gpus <n|list>',
      'GPUs to offer: a number, or indices (0,2) (default: those nvidia-smi lists, less any CUDA_VISIBLE_DEVICES hides)',
    )
    .option('--venv-cache-days <days>', 'remove a cached virtualenv unused this long (default 7; 0: no limit)')
    .option('--venv-cache-size <size>', 'keep cached virtualenvs within this size (default 20GB; 0: no limit)')
    .option(
      '--no-host-jobs',
      "run only jobs in containers (with an 'image:'), not jobs on this machine as this user, " +
        "who could read this runner's token: for users who do not trust each other",
    )
    .action((opts) => done(commands.runner().then((m) => m.runnerStartCommand(opts, settings))));
  runner
    .command('exec')
    .description('run one job already assigned to this runner, then exit (what a Slurm batch job runs)')
    .requiredOption('--job <id>', 'the job id')
    .option('--server <url>', 'the server URL (or DSTACK_SERVER)')
    .option('--token <token>', 'the runner token (or DSTACK_TOKEN)')
    .option('--token-file <file>', 'read the runner token from this file, then delete it')
    .option('--work-dir <dir>', 'where the job runs (default a temporary folder, removed at the end)')
    .option('--squeue <path>', 'the squeue that says whether Slurm is ending the batch job (default: on PATH)')
    .action((opts) => done(commands.runnerExec().then((m) => m.runnerExecCommand(opts, settings))));

  // The reference's `dstack aws config` set a user's own bucket; here storage is the server's.
  program
    .command('aws', { hidden: true })
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(() =>
      done(
        Promise.reject(
          new UsageError(
            "dstack has no 'aws' command: artifacts are stored where the server is told, with " +
              "'dstack server --storage s3://BUCKET/PREFIX' (or DSTACK_STORAGE) and the standard AWS credentials " +
              "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; AWS_REGION): storage is the server's, " +
              "not each user's (see docs/storage.md)",
          ),
        ),
      ),
    );

  const server = program
    .command('server')
    .description('run a dstack server in the foreground')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '3000')
    .option('--data-dir <dir>', 'where the server keeps its state (default $DSTACK_HOME/server)')
    .option('--local-runner', "run jobs on this machine too, as this server's user (the default on 127.0.0.1)")
    .option('--no-local-runner', 'do not run jobs on this machine (the default on any other --host)')
    .option('--storage <where>', 'where blobs (code, artifacts) go: a folder or s3://BUCKET/PREFIX (or DSTACK_STORAGE)')
    .option('--database <url>', 'keep state in PostgreSQL: postgres://USER:PASSWORD@HOST/DB (or DSTACK_DATABASE_URL)')
    .option('--runner-timeout <seconds>', 'a runner silent this long is lost and its jobs fail', '60')
    .option('--embedded', 'internal: the background server the CLI starts')
    .action((opts) => done(commands.server().then((m) => m.serverCommand(opts, settings))));
  addBackendFlags(server);
  server
    .command('stop')
    .description('stop the local background server (it refuses while jobs run on this machine, unless --force)')
    .option(
      '--force',
      'stop those jobs first, as dstack stop does: their artifacts are saved, dstack resume runs them again',
    )
    .action((opts) => done(commands.server().then((m) => m.serverStopCommand(opts, settings))));
  refuseUnknownSubcommands(server);
  addHelpCommand(program, (argv) =>
    argv[0] === 'run'
      ? (done(commands.run().then((m) => m.runCommand(argv.slice(1), settings, process.cwd()))), Promise.resolve())
      : buildProgram(settings, done)
          .parseAsync(argv, { from: 'user' })
          .then(() => undefined),
  );
  return program;
}

export { CommanderError } from 'commander';

/** A UsageError naming the argument that was given as an empty string (`dstack logs ""`). */
function refuseEmptyArguments(action: Command): void {
  action.registeredArguments.forEach((arg, i) => {
    const value: unknown = action.processedArgs[i];
    if (arg.variadic || typeof value !== 'string' || value.trim() !== '') return;
    const label = /^[A-Z]/.test(arg.description) ? arg.description : arg.name().toUpperCase();
    const path = [action.parent?.parent ? action.parent.name() : '', action.name()].filter(Boolean).join(' ');
    const hint = /RUN|JOB/.test(label)
      ? " ('dstack status --last 10' lists runs and jobs)"
      : label === 'TAG'
        ? " ('dstack tags list' lists tags)"
        : '';
    throw new UsageError(`dstack ${path}: ${label} is empty: give one${hint}`);
  });
}
