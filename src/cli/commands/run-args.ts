/**
 * `dstack run WORKFLOW [--VARIABLE VALUE]...` arguments. Variables are the project's, so
 * they are parsed here rather than declared to commander.
 */
import { UsageError } from '../../core/errors.js';
import { didYouMean } from '../../core/suggest.js';
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
  /** Options of one dash dstack run does not know (`-epochs`), as written before any `=`: refused by refuseOneDash. */
  oneDash: string[];
}

/** dstack run's own flags that take no value, and what each sets. */
const FLAGS: Readonly<Record<string, 'detach' | 'help' | 'dryRun' | 'noCache'>> = {
  '-d': 'detach',
  '--detach': 'detach',
  '-h': 'help',
  '--help': 'help',
  '--dry-run': 'dryRun',
  '--no-cache': 'noCache',
};

/** Variables named like dstack run's own options: `--tag v2` is the run's tag, never the variable's value. */
export const HIDDEN_VARIABLES: ReadonlySet<string> = new Set(['detach', 'help', 'dry-run', 'no-cache', 'tag']);

/** `dstack run`'s own options, for its help. */
export const RUN_OPTIONS_HELP =
  'options:\n' +
  '    -d, --detach    submit and print the run name without waiting\n' +
  '    --tag TAG       tag the run once it is DONE\n' +
  '    --no-cache      run every job again: reuse no earlier result\n' +
  '    --dry-run       show the plan and submit nothing\n';

export function parseRunArgs(argv: readonly string[]): RunArgs {
  const args: RunArgs = {
    overrides: {},
    detach: false,
    help: false,
    dryRun: false,
    noCache: false,
    valueless: [],
    oneDash: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // `--tag=v2` is `--tag v2`: dstack run's own options are matched before `=`, so that no
    // variable of their name takes the value (a `dry-run` variable would make `--dry-run=yes` submit).
    const eq = arg.startsWith('-') ? arg.indexOf('=') : -1;
    const option = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const flag = Object.hasOwn(FLAGS, option) ? FLAGS[option] : undefined;
    if (flag !== undefined) {
      if (inline !== undefined)
        throw new UsageError(
          `option '${option}' takes no value: write '${option}', not '${arg}' ` +
            "(a variable named like one of dstack run's options is set in .dstack/variables.yaml only)",
        );
      args[flag] = true;
    } else if (option === '--tag') {
      const value = inline ?? argv[++i];
      // No tag starts with '-': a flag after `--tag` means its value was left out.
      if (value === undefined || value === '' || (inline === undefined && value.startsWith('-')))
        throw new UsageError(`option '--tag' needs a value (--tag TAG)`);
      args.tag = checkTagName(value, '--tag');
    } else if (arg.startsWith('--')) {
      const name = option.slice(2);
      if (!name) throw new UsageError(`invalid option '${arg}'`);
      let value = inline;
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
      // Refused once the workflow's variables are known, so that `-epochs` can be told it meant
      // `--epochs`; its value, if any, is skipped as `--epochs`' would be, so the workflow is still found.
      args.oneDash.push(option);
      const next = argv[i + 1];
      if (inline === undefined && next !== undefined && !next.startsWith('-')) i++;
    } else if (args.workflow === undefined) {
      args.workflow = arg;
    } else {
      throw new UsageError(`unexpected argument '${arg}' (variables are passed as --name value)`);
    }
  }
  return args;
}

/**
 * Refuse the first unknown one-dash option, naming the `--` flag it was meant to be when dstack
 * run's own options or `variables` (the workflow's, without dashes) have one close to it.
 */
export function refuseOneDash(args: RunArgs, variables: Iterable<string>): void {
  const option = args.oneDash[0];
  if (option === undefined) return;
  const flags = [
    ...Object.keys(FLAGS).filter((f) => f.startsWith('--')),
    '--tag',
    ...[...variables].map((n) => `--${n}`),
  ];
  throw new UsageError(`unknown option '${option}'${didYouMean(`-${option}`, flags)}`);
}

/**
 * Every flag a workflow's variables take, and not an empty one unless the variable's default
 * (`defaults`: the workflow's variables) is empty too: run once checkOverrides has accepted the names.
 */
export function requireValues(args: RunArgs, defaults: ReadonlyMap<string, string>): void {
  const name = args.valueless[0];
  if (name !== undefined) throw new UsageError(`option '--${name}' needs a value (--${name} VALUE)`);
  for (const [flag, value] of Object.entries(args.overrides)) {
    const preset = defaults.get(flag);
    if (value !== '' || preset === '') continue;
    throw new UsageError(
      `option '--${flag}' was given an empty value: give one (--${flag} VALUE)` +
        (preset === undefined ? '' : `, or leave the flag out for its default (${preset})`),
    );
  }
}

/** The variable flags given, with or without a value, for checkOverrides. */
export function flagNames(args: RunArgs): string[] {
  return [...Object.keys(args.overrides), ...args.valueless];
}
