/** `dstack run WF --help`: the usage line says what a user must type. */
import { describe, expect, it } from 'vitest';
import { formatWorkflowHelp } from '../../src/cli/commands/plan-output.js';
import { parseRunArgs, requireValues } from '../../src/cli/commands/run-args.js';
import type { ProjectConfig, WorkflowConfig } from '../../src/core/workflow.js';

function project(commands: string[], variables: Record<string, string>): ProjectConfig {
  const a: WorkflowConfig = {
    name: 'a',
    provider: 'bash',
    commands,
    dependsOn: [],
    artifacts: [],
    resources: {},
    environment: {},
    params: {},
    locations: {},
    location: { file: '.dstack/workflows.yaml', line: 2 },
  };
  return {
    root: '/p',
    workflows: [a],
    variables: { global: {}, perWorkflow: { a: variables }, locations: {} },
    warnings: [],
  };
}

describe('dstack run WF --help', () => {
  it('shows an optional variable with a required value, as a flag without one is refused', () => {
    const help = formatWorkflowHelp(project(['python3 train.py $epochs'], { epochs: '10' }), 'a');
    expect(help.split('\n')[0]).toBe('usage: dstack run a [--epochs EPOCHS]');
    expect(() => requireValues(parseRunArgs(['a', '--epochs']), new Map())).toThrow(
      "option '--epochs' needs a value (--epochs VALUE)",
    );
  });

  it('shows required variables first, then optional ones, each with its value', () => {
    const help = formatWorkflowHelp(
      project(['python3 train.py ${{ gpu }} $epochs $lr'], { epochs: '10', lr: '0.1' }),
      'a',
    );
    expect(help.split('\n')[0]).toBe('usage: dstack run a --gpu GPU [--epochs EPOCHS] [--lr LR]');
  });

  it('lists each variable with its value as the usage line does, not as if the value could be left out', () => {
    const help = formatWorkflowHelp(
      project(['python3 train.py ${{ gpu }} $model_name'], { model_name: 'gpt2', tag: 'v1' }),
      'a',
    );
    expect(help).toContain(
      'required arguments:\n' +
        '  --gpu GPU                no default: ${{ gpu }} has no value in .dstack/variables.yaml\n' +
        'optional arguments:\n' +
        '  --model_name MODEL_NAME  default is gpt2\n' +
        "variables that dstack run's own options hide (set them in .dstack/variables.yaml):\n" +
        '  tag                      default is v1\n',
    );
  });

  it('lists as required a ${{ }} a dependency references without a value, as a run needs it', () => {
    const config = project(['python3 prepare.py --rows ${{ rows }}'], {});
    const b: WorkflowConfig = { ...config.workflows[0]!, name: 'b', commands: ['ls'], dependsOn: [{ workflow: 'a' }] };
    const help = formatWorkflowHelp({ ...config, workflows: [...config.workflows, b] }, 'b');
    expect(help).toContain(
      'usage: dstack run b --rows ROWS\n\nrequired arguments:\n' +
        '  --rows ROWS  no default: ${{ rows }} has no value in .dstack/variables.yaml\n',
    );
  });
});
