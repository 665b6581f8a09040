/** `dstack run WF --flag...`: a flag without a value is refused as unknown before as valueless. */
import { describe, expect, it } from 'vitest';
import { flagNames, parseRunArgs, refuseOneDash, requireValues } from '../../src/cli/commands/run-args.js';
import { checkOverrides } from '../../src/core/overrides.js';
import { acceptedVariables } from '../../src/core/variables.js';
import { buildProject } from '../../src/config/index.js';
import { yaml } from '../config/helpers.js';

const config = buildProject(
  '/p',
  yaml('workflows:', '  - name: train', '    commands: [python train.py $variables_as_args]'),
  yaml('variables:', '  train:', '    seed: 1', '    epochs: 3', '    lr: 0.1', "    note: ''"),
);
const variables = acceptedVariables(config.variables, 'train');

/** What `dstack run` checks of the arguments once it has the project, in its order. */
function check(argv: string[]): void {
  const args = parseRunArgs(argv);
  refuseOneDash(args, variables.keys());
  checkOverrides(config, 'train', flagNames(args));
  requireValues(args, variables);
}

describe('dstack run arguments', () => {
  it('refuses an unknown flag without a value as unknown, listing the variables', () => {
    const unknown = "unknown option '--bogus' for workflow 'train' (its variables: --seed, --epochs, --lr, --note)";
    expect(() => check(['train', '--bogus'])).toThrow(unknown);
    expect(() => check(['train', '--bogus', '1'])).toThrow(unknown);
    expect(() => check(['train', '--bogus', '--epochs', '2'])).toThrow(unknown);
  });

  it("refuses a flag before dstack run's own options as unknown, not as the option's value", () => {
    const args = parseRunArgs(['train', '--dry-run', '--no-cache', '--json']);
    expect(args).toMatchObject({ dryRun: true, noCache: true, valueless: ['json'] });
    expect(() => check(['train', '--dry-run', '--no-cache', '--json'])).toThrow(
      "unknown option '--json' for workflow 'train' (its variables: --seed, --epochs, --lr, --note)",
    );
  });

  it('suggests the variable a misspelt flag without a value was meant to be', () => {
    expect(() => check(['train', '--epoch'])).toThrow(
      "unknown option '--epoch' for workflow 'train' (its variables: --seed, --epochs, --lr, --note); did you mean '--epochs'?",
    );
  });

  it('says that a variable flag needs a value, at the end or before another flag', () => {
    expect(() => check(['train', '--epochs'])).toThrow("option '--epochs' needs a value (--epochs VALUE)");
    expect(() => check(['train', '--lr', '--dry-run'])).toThrow("option '--lr' needs a value (--lr VALUE)");
  });

  it('takes the last value of a flag given twice, so an alias can set a default', () => {
    expect(parseRunArgs(['train', '--epochs', '1', '--lr=0.1', '--epochs', '5']).overrides).toEqual({
      epochs: '5',
      lr: '0.1',
    });
  });

  it("takes --tag=TAG as the run's tag, never as a variable named tag", () => {
    expect(parseRunArgs(['train', '--tag=v2'])).toMatchObject({ tag: 'v2', overrides: {} });
    expect(parseRunArgs(['--tag=v2', 'train', '--epochs=2'])).toMatchObject({
      workflow: 'train',
      tag: 'v2',
      overrides: { epochs: '2' },
    });
    expect(() => check(['train', '--tag=v2'])).not.toThrow();
  });

  it('says --tag needs a value when it has none, or another flag follows it', () => {
    for (const argv of [
      ['train', '--tag='],
      ['train', '--tag'],
      ['train', '--tag', '--dry-run'],
    ])
      expect(() => parseRunArgs(argv)).toThrow("option '--tag' needs a value (--tag TAG)");
    expect(() => parseRunArgs(['train', '--tag=a b'])).toThrow("invalid tag 'a b' (--tag): use letters");
  });

  it("refuses a value given to dstack run's own flags, which take none, never setting a variable of their name", () => {
    expect(() => parseRunArgs(['train', '--dry-run=1'])).toThrow(
      "option '--dry-run' takes no value: write '--dry-run', not '--dry-run=1' (a variable named like one of dstack run's options is set in .dstack/variables.yaml only)",
    );
    expect(() => parseRunArgs(['train', '--detach=yes'])).toThrow("option '--detach' takes no value");
    expect(() => parseRunArgs(['train', '-d=yes'])).toThrow("option '-d' takes no value");
    expect(() => parseRunArgs(['train', '--no-cache=true'])).toThrow("option '--no-cache' takes no value");
    expect(() => parseRunArgs(['train', '--help=x'])).toThrow("option '--help' takes no value");
  });

  it('names the two-dash flag a one-dash option was meant to be: a variable or a run option', () => {
    expect(() => check(['train', '-epochs', '3'])).toThrow("unknown option '-epochs'; did you mean '--epochs'?");
    expect(() => check(['train', '-epoch=3'])).toThrow("unknown option '-epoch'; did you mean '--epochs'?");
    expect(() => check(['train', '-dry-run'])).toThrow("unknown option '-dry-run'; did you mean '--dry-run'?");
    expect(() => check(['train', '-tag', 'v1'])).toThrow("unknown option '-tag'; did you mean '--tag'?");
    expect(() => check(['train', '-x'])).toThrow(/^unknown option '-x'$/);
  });

  it("refuses an empty value unless the variable's default is empty too, naming the flag and the default", () => {
    expect(() => check(['train', '--epochs', ''])).toThrow(
      "option '--epochs' was given an empty value: give one (--epochs VALUE), or leave the flag out for its default (3)",
    );
    expect(() => check(['train', '--lr='])).toThrow("option '--lr' was given an empty value");
    expect(() => check(['train', '--note', ''])).not.toThrow();
    // A variable only referenced as ${{ name }} has no default: it needs a value.
    expect(() => requireValues(parseRunArgs(['train', '--gpu', '']), new Map())).toThrow(
      /^option '--gpu' was given an empty value: give one \(--gpu VALUE\)$/,
    );
  });

  it('refuses -- with no name', () => {
    expect(() => parseRunArgs(['train', '--'])).toThrow("invalid option '--'");
  });
});
