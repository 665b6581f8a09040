/**
 * `dstack run WORKFLOW [--VARIABLE VALUE]...` arguments. Variables are the project's, so
 * they are parsed here rather than declared to commander.
 */
import { UsageError } from '../../core/errors.js';
import { checkTagName } from '../../core/tags.js';

export interface RunArgs {
  workflow?: string;
  overrides: Record<string, string>;
  detach: boolean;
  help: boolean;
  dryRun: boolean;
  noCache: boolean;
  tag?: string;
  /** `--name` flags given no value, in order: unknown ones are refused as unknown, the rest as needing a value. */
  valueless: string[];
}

const FLAGS = new Set(['-d', '--detach', '-h', '--help', '--dry-run', '--no-cache']);

/** Variables named like dstack run's own options: `--tag v2` is the run's tag, never the variable's value. */
export const HIDDEN_VARIABLES: ReadonlySet<string> = new Set(['detach', 'help', 'dry-run', 'no-cache', 'tag']);

/** `dstack run`'s own options, for its help. */
export const RUN_OPTIONS_HELP =
  'options:\n' +
  '    -d, --detach    submit and print the run name without waiting\n' +
  '    --tag TAG       tag the run when it finishes\n' +
  '    --no-cache      run every job again: reuse no earlier result\n' +
  '    --dry-run       show the plan and submit nothing\n';

export function parseRunArgs(argv: readonly string[]): RunArgs {
  const args: RunArgs = { overrides: {}, detach: false, help: false, dryRun: false, noCache: false, valueless: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (FLAGS.has(arg)) {
      if (arg === '-d' || arg === '--detach') args.detach = true;
      else if (arg === '--dry-run') args.dryRun = true;
      else if (arg === '--no-cache') args.noCache = true;
      else args.help = true;
    } else if (arg === '--tag') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`option '--tag' needs a value`);
      args.tag = checkTagName(value, '--tag');
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (!name) throw new UsageError(`invalid option '${arg}'`);
      let value = eq < 0 ? undefined : arg.slice(eq + 1);
      if (value === undefined) {
        value = argv[i + 1];
        if (value === undefined || (value.startsWith('--') && value.length > 2)) {
          args.valueless.push(name);
          continue;
        }
        i++;
      }
      args.overrides[name] = value;
    } else if (arg.startsWith('-') && arg.length > 1) {
      throw new UsageError(`unknown option '${arg}'`);
    } else if (args.workflow === undefined) {
      args.workflow = arg;
    } else {
      throw new UsageError(`unexpected argument '${arg}' (variables are passed as --name value)`);
    }
  }
  return args;
}

/** Every flag a workflow's variables take: run once checkOverrides has accepted the names. */
export function requireValues(args: RunArgs): void {
  const name = args.valueless[0];
  if (name !== undefined) throw new UsageError(`option '--${name}' needs a value (--${name} VALUE)`);
}

/** The variable flags given, with or without a value, for checkOverrides. */
export function flagNames(args: RunArgs): string[] {
  return [...Object.keys(args.overrides), ...args.valueless];
}
