import { describe, expect, it } from 'vitest';
import { misspeltReferenceCheck, type KnownNames } from '../../src/core/misspelt-references.js';
import { plan, type ProviderFn } from '../../src/core/planner.js';
import type { ProjectConfig, WorkflowConfig } from '../../src/core/workflow.js';
import { builtinJobs } from '../../src/providers/builtin.js';

const FILE = '.dstack/workflows.yaml';
const builtin: ProviderFn = (wf) => builtinJobs(wf);

function workflow(commands: string[], fields: Partial<WorkflowConfig> = {}): WorkflowConfig {
  return {
    name: 'typo',
    provider: 'bash',
    commands,
    dependsOn: [],
    artifacts: [],
    resources: {},
    environment: {},
    params: {},
    locations: Object.fromEntries(commands.map((_, i) => [`commands.${i}`, { file: FILE, line: 4 + i, column: 9 }])),
    location: { file: FILE, line: 2 },
    ...fields,
  };
}

const warningsOf = async (wf: WorkflowConfig, variables: Record<string, string>): Promise<string[]> => {
  const config: ProjectConfig = {
    root: '/work/project',
    workflows: [wf],
    variables: { global: variables, perWorkflow: {}, locations: {} },
    warnings: [],
  };
  return (await plan(config, { target: 'typo', overrides: {} }, builtin)).warnings;
};

const warning = (line: number, written: string, meant: string) =>
  `${FILE}:${line}:9: 'commands.${line - 4}' of workflow 'typo': ${written} is no variable of the workflow and ` +
  `nothing dstack sets, so the shell reads it as empty unless the job sets it; did you mean ${meant}?`;

describe('misspelt references in commands', () => {
  it('warns at the command about $epoch and ${batch_sise}, one edit from the variables epochs and batch_size', async () => {
    const wf = workflow(['echo epochs=$epoch batch=${batch_sise}', 'echo $epochs ${batch_size} $epoch']);
    expect(await warningsOf(wf, { epochs: '3', batch_size: '4' })).toEqual([
      warning(4, '$epoch', '$epochs'),
      warning(4, '${batch_sise}', '${batch_size}'),
      warning(5, '$epoch', '$epochs'),
    ]);
  });

  it("suggests what the job's environment has, in the form it was written", () => {
    const check = misspeltReferenceCheck({
      variables: ['epochs', 'learning-rate'],
      environment: ['MODEL_DIR'],
      commands: [],
    });
    expect(check('echo $EPOCH $MODEL_DIRS ${learning-rat} $learning_rate $run_nam $DSTACK_RUN_NAM')).toEqual([
      { written: '$EPOCH', meant: '$EPOCHS' },
      { written: '$MODEL_DIRS', meant: '$MODEL_DIR' },
      { written: '${learning-rat}', meant: '${learning-rate}' },
      { written: '$learning_rate', meant: '${learning-rate}' },
      { written: '$run_nam', meant: '$run_name' },
    ]);
  });

  it('points $LEARNING_RATE at a dashed variable, whose environment name keeps its dash, unless the job sets it', () => {
    const check = misspeltReferenceCheck({ variables: ['learning-rate'], environment: [], commands: [] });
    expect(check('python3 train.py --lr $LEARNING_RATE')).toEqual([
      { written: '$LEARNING_RATE', meant: '${learning-rate}' },
    ]);
    const set = misspeltReferenceCheck({ variables: ['learning-rate'], environment: ['LEARNING_RATE'], commands: [] });
    expect(set('echo $LEARNING_RATE')).toEqual([]);
  });

  it('leaves alone what dstack, the shell or the commands set, what the shell does not expand, and short names', () => {
    const known: KnownNames = {
      variables: ['epochs', 'users', 'lr', 'term'],
      environment: ['MODEL_DIR'],
      commands: [
        'epoch=10; for epochq in 1 2; do echo $epochq; done',
        'while read -r line epochz; do :; done; echo ${epochx:=1}',
      ],
    };
    const check = misspeltReferenceCheck(known);
    // Set by dstack (variables, upper-cased too, environment:, DSTACK_*), by every shell, or by the commands.
    expect(check('echo $epochs $EPOCHS ${users} $MODEL_DIR $DSTACK_RUN_NAME $USER $TERM $LC_ALL $BASH_SOURCE')).toEqual(
      [],
    );
    expect(check('echo $epoch $epochq $epochz $epochx')).toEqual([]);
    // Not expanded by the shell: quoted, escaped, commented, $$ (its process id), dstack's own ${{ }}.
    expect(check(`echo '$epoch' \\$epoch $$epoch "it's" # $epoch\necho \${{ epochs }}`)).toEqual([]);
    // One edit from a two-letter name is another name: $l, $lrs.
    expect(check('echo $l $lrs ${lrs}')).toEqual([]);
    // Two edits away is no typo this can tell.
    expect(check('echo $epoc $ep')).toEqual([]);
    // Outside single quotes again, and in double quotes, it is the shell's.
    expect(check(`echo 'x' "$epohcs"`)).toEqual([{ written: '$epohcs', meant: '$epochs' }]);
  });

  it('warns about a name that only an argument looks like it sets: `name=` assigns only where a command starts', () => {
    const check = (command: string) =>
      misspeltReferenceCheck({ variables: ['epochs'], environment: [], commands: [command] })(command);
    const epoch = [{ written: '$epoch', meant: '$epochs' }];
    expect(check('echo epoch=$epoch')).toEqual(epoch);
    // Hydra's overrides, and an option's value.
    expect(check('python3 t.py epoch=$epoch')).toEqual(epoch);
    expect(check('python3 t.py --set epoch=1 && echo $epoch')).toEqual(epoch);
    // Set where a command starts, it is the shell's: before a command, or exported.
    expect(check('epoch=1 B=$epoch cmd')).toEqual([]);
    expect(check('export epoch=1; echo $epoch')).toEqual([]);
  });

  it("takes the assignments of a command's start, after others, separators, reserved words and declaring builtins", () => {
    const sets = (command: string, name: string) =>
      misspeltReferenceCheck({ variables: [`${name}s`], environment: [], commands: [command] })(`echo $${name}`);
    // Leading assignments before a command, each after the one before (its value skipped, quoted or not).
    expect(sets('A=1 epoch=$A cmd', 'epoch')).toEqual([]);
    expect(sets('A="a b" B=$(date +%s) epoch=\'x y\' cmd', 'epoch')).toEqual([]);
    expect(sets('echo x; epoch=1', 'epoch')).toEqual([]);
    expect(sets('true && epoch=1 || epoch=2', 'epoch')).toEqual([]);
    expect(sets('n=$(epoch=1; echo $epoch)', 'epoch')).toEqual([]);
    expect(sets('if true; then epoch=1; else epoch=2; fi', 'epoch')).toEqual([]);
    expect(sets('for i in 1; do epoch=$i; done', 'epoch')).toEqual([]);
    expect(sets('echo a\n  epoch=1', 'epoch')).toEqual([]);
    expect(sets('export epoch=1; echo $epoch', 'epoch')).toEqual([]);
    expect(sets('local -r epoch', 'epoch')).toEqual([]);
    expect(sets('X=1 declare -a epoch=(1 2)', 'epoch')).toEqual([]);
    expect(sets('arr[0]=1 epoch+=2', 'epoch')).toEqual([]);
  });
});
