import { describe, expect, it } from 'vitest';
import {
  UndefinedVariableError,
  acceptedVariables,
  runAgainCommand,
  environmentReference,
  hasShellSyntax,
  shellQuote,
  strictReferences,
  substitute,
  unbracedDashed,
  variablesAsArgs,
  workflowVariables,
} from '../../src/core/variables.js';
import type { VariablesConfig } from '../../src/core/workflow.js';

const vars = new Map([
  ['model', '124M'],
  ['models_dir', 'model'],
  ['batch_size', '1'],
]);

/** The UndefinedVariableError `fn` throws; fails the test when it throws nothing or something else. */
function undefinedVariable(fn: () => unknown): UndefinedVariableError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UndefinedVariableError) return e;
    throw e;
  }
  throw new Error('expected an UndefinedVariableError, but nothing was thrown');
}

function variablesConfig(
  global: Record<string, string>,
  perWorkflow: Record<string, Record<string, string>> = {},
): VariablesConfig {
  return { global, perWorkflow, locations: {} };
}

describe('substitute', () => {
  it('resolves ${{ name }}, with or without spaces inside the braces', () => {
    expect(substitute('python3 download_model.py ${{ model }}', vars)).toBe('python3 download_model.py 124M');
    expect(substitute('${{model}}', vars)).toBe('124M');
    expect(substitute('${{   model   }}', vars)).toBe('124M');
  });

  it('throws UndefinedVariableError naming an undefined ${{ name }}', () => {
    const e = undefinedVariable(() => substitute('train --gpus ${{ gpu }}', vars));
    expect(e.variable).toBe('gpu');
    expect(e.message).toBe('undefined variable ${{ gpu }}');
    // 1-based column of the reference in the string.
    expect(e.column).toBe(14);
  });

  it('accepts hyphens in ${{ name }}', () => {
    expect(substitute('${{ top-k }}', new Map([['top-k', '40']]))).toBe('40');
  });

  it('replaces $name and ${name} when name is a variable', () => {
    expect(substitute('python3 download_model.py $model', vars)).toBe('python3 download_model.py 124M');
    expect(substitute('python3 download_model.py ${model}', vars)).toBe('python3 download_model.py 124M');
  });

  it("replaces ${learning-rate}, a dashed name, only braced: $learning-rate is the shell's $learning then -rate", () => {
    const dashed = new Map([['learning-rate', '2e-5']]);
    expect(substitute('A=$learning-rate B=${learning-rate} C=${{ learning-rate }}', dashed)).toBe(
      'A=$learning-rate B=2e-5 C=2e-5',
    );
    // With `learning` a variable, `$learning-rate` is it followed by `-rate`, as the shell reads it.
    expect(substitute('$learning-rate', new Map([...dashed, ['learning', '1']]))).toBe('1-rate');
  });

  it("leaves bash's ${name-default} alone when name-default is no variable", () => {
    expect(substitute('${HOME-/root} ${model-x}', vars)).toBe('${HOME-/root} ${model-x}');
  });

  it('leaves $PATH, ${HOME} and other shell variables alone', () => {
    expect(substitute('export PATH=$PATH:${HOME}/bin', vars)).toBe('export PATH=$PATH:${HOME}/bin');
    expect(substitute('echo $1 $? $$ $@', vars)).toBe('echo $1 $? $$ $@');
    expect(substitute('echo $MODEL', vars)).toBe('echo $MODEL');
  });

  it('replaces a variable next to other text', () => {
    expect(substitute('$model/x', vars)).toBe('124M/x');
    expect(substitute('${model}_v2', vars)).toBe('124M_v2');
    expect(substitute('out-$model', vars)).toBe('out-124M');
    expect(substitute('$model-$batch_size', vars)).toBe('124M-1');
  });

  it('reads the longest name after $: $models_dir is not $model followed by s_dir', () => {
    expect(substitute('ls $models_dir', vars)).toBe('ls model');
    // `$model_v2` names `model_v2`, which is no variable: left for the shell.
    expect(substitute('echo $model_v2', vars)).toBe('echo $model_v2');
  });

  it('leaves names in the keep set as written, in every form', () => {
    const keep = new Set(['run_name', 'job_id']);
    const withRunName = new Map([...vars, ['run_name', 'planned']]);
    expect(substitute('--run_name $run_name --job ${job_id} ${{ run_name }}', withRunName, keep)).toBe(
      '--run_name $run_name --job ${job_id} ${{ run_name }}',
    );
    // A kept name is not an error even as ${{ }} and undefined.
    expect(substitute('${{ job_id }}', vars, keep)).toBe('${{ job_id }}');
  });

  it('does not substitute again inside a substituted value', () => {
    const v = new Map([
      ['a', '$b'],
      ['b', 'B'],
    ]);
    expect(substitute('$a ${{ a }}', v)).toBe('$b $b');
  });

  it('substitutes every occurrence in one string', () => {
    expect(substitute('$model ${model} ${{ model }}', vars)).toBe('124M 124M 124M');
  });

  it('replaces with an empty value', () => {
    expect(substitute('[${{ e }}][$e]', new Map([['e', '']]))).toBe('[][]');
  });

  it('writes a reference escaped with $$ as it is, one $ less: $$model, $${model}, $${{ model }}', () => {
    expect(substitute('for model in a b; do echo $$model $${model} $model; done', vars)).toBe(
      'for model in a b; do echo $model ${model} 124M; done',
    );
    // Another tool's template, and an undefined or malformed one: written as they are, not refused.
    expect(substitute('echo "$${{ github.sha }} $${{ nope }} $${{ model }}"', vars)).toBe(
      'echo "${{ github.sha }} ${{ nope }} ${{ model }}"',
    );
  });

  it("leaves the shell's $$ (its pid) before anything that is no variable", () => {
    expect(substitute('tmp=/tmp/x.$$; echo $$ $$PATH $${HOME} $$-1', vars)).toBe(
      'tmp=/tmp/x.$$; echo $$ $$PATH $${HOME} $$-1',
    );
  });

  it('leaves an escaped kept name escaped, for the runner to write as it is', () => {
    const keep = new Set(['run_name', 'job_id']);
    expect(substitute('$$run_name $${job_id} $${{ run_name }} $run_name', vars, keep)).toBe(
      '$$run_name $${job_id} $${{ run_name }} $run_name',
    );
  });
});

describe('unbracedDashed', () => {
  const dashed = new Map([
    ['learning-rate', '2e-5'],
    ['top-k-max', '40'],
    ['model', '124M'],
  ]);

  it('names a dashed variable written unbraced whose first part is no variable', () => {
    expect(unbracedDashed('python train.py --lr $learning-rate --k $top-k-max-x', dashed)).toEqual([
      'learning-rate',
      'top-k-max',
    ]);
  });

  it('names nothing braced, nothing whose first part is a variable or kept, and no shell text', () => {
    expect(unbracedDashed('${learning-rate} ${{ learning-rate }} $model-rate $PATH-x $no-such', dashed)).toEqual([]);
    expect(unbracedDashed('$learning-rate', dashed, new Set(['learning']))).toEqual([]);
  });
});

describe('hasShellSyntax', () => {
  it('finds each character the shell reads as more than a plain word', () => {
    for (const c of [' ', '\t', '\n', "'", '"', ';', '&', '|', '<', '>', '(', ')', '$', '`', '\\', '*', '?', '[']) {
      expect(hasShellSyntax(`a${c}b`), JSON.stringify(c)).toBe(true);
    }
  });

  it('passes values that reach the shell as one word', () => {
    for (const value of ['124M', '2e-5', 'data/raw', 'gpt2:latest', 'a=b,c@d%e+f~g', '']) {
      expect(hasShellSyntax(value), value).toBe(false);
    }
  });
});

describe('environmentReference', () => {
  it("names the job's environment variable, quoted; a dashed one through printenv, as no shell variable can", () => {
    expect(environmentReference('msg')).toBe('"$MSG"');
    expect(environmentReference('batch_size')).toBe('"$BATCH_SIZE"');
    expect(environmentReference('learning-rate')).toBe('"$(printenv LEARNING-RATE)"');
  });
});

describe('strictReferences', () => {
  it('lists only the ${{ }} references', () => {
    expect(strictReferences('$model ${models_dir} ${{ gpu }} ${{tgpu}}')).toEqual(['gpu', 'tgpu']);
  });
});

describe('workflowVariables', () => {
  const config = variablesConfig(
    { model: '124M', models_dir: 'model' },
    { 'finetune-model': { batch_size: '1', model: '345M', learning_rate: '0.00002' } },
  );

  it('takes global, then the workflow own section over it, then overrides', () => {
    const v = workflowVariables(config, 'finetune-model', { batch_size: '4' });
    expect(Object.fromEntries(v)).toEqual({
      model: '345M',
      models_dir: 'model',
      batch_size: '4',
      learning_rate: '0.00002',
    });
    expect(workflowVariables(config, 'finetune-model', { model: '774M' }).get('model')).toBe('774M');
  });

  it('gives a workflow without a section only the global variables', () => {
    expect(Object.fromEntries(workflowVariables(config, 'download-model', {}))).toEqual({
      model: '124M',
      models_dir: 'model',
    });
  });

  it('ignores an override of a name the workflow does not see', () => {
    const v = workflowVariables(config, 'download-model', { batch_size: '4', model: '774M' });
    expect(v.has('batch_size')).toBe(false);
    expect(v.get('model')).toBe('774M');
  });

  it('keeps definition order: global first, then the own section', () => {
    const ordered = variablesConfig({ z: '1', a: '2' }, { wf: { m: '3', b: '4' } });
    expect([...workflowVariables(ordered, 'wf', { b: '5', z: '6' }).keys()]).toEqual(['z', 'a', 'm', 'b']);
  });

  it('acceptedVariables lists what the workflow sees, with defaults', () => {
    expect([...acceptedVariables(config, 'download-model').entries()]).toEqual([
      ['model', '124M'],
      ['models_dir', 'model'],
    ]);
  });
});

describe('variablesAsArgs', () => {
  it('formats only the workflow own section, in definition order, with current values', () => {
    const config = variablesConfig(
      { model: '124M' },
      { 'finetune-model': { combine: '50000', encoding: 'utf-8', batch_size: '1' } },
    );
    const v = workflowVariables(config, 'finetune-model', { batch_size: '4', model: '345M' });
    expect(variablesAsArgs(config, 'finetune-model', v)).toBe('--combine 50000 --encoding utf-8 --batch_size 4');
  });

  it('is empty for a workflow without its own section', () => {
    const config = variablesConfig({ model: '124M' });
    expect(variablesAsArgs(config, 'download-model', workflowVariables(config, 'download-model', {}))).toBe('');
  });

  it('shell-quotes values with spaces, quotes or nothing', () => {
    const config = variablesConfig({}, { wf: { prompt: 'hello world', quote: "it's", empty: '' } });
    expect(variablesAsArgs(config, 'wf', workflowVariables(config, 'wf', {}))).toBe(
      `--prompt 'hello world' --quote 'it'\\''s' --empty ''`,
    );
  });
});

describe('shellQuote', () => {
  it('leaves plain words as they are', () => {
    for (const plain of ['124M', 'utf-8', '0.00002', 'a/b.txt', 'key=value', 'x@y:z,w', '50%', '+1']) {
      expect(shellQuote(plain)).toBe(plain);
    }
  });

  it('single-quotes the empty string', () => {
    expect(shellQuote('')).toBe(`''`);
  });

  it('single-quotes spaces and shell metacharacters', () => {
    expect(shellQuote('hello world')).toBe(`'hello world'`);
    expect(shellQuote('$HOME')).toBe(`'$HOME'`);
    expect(shellQuote('a;rm -rf /')).toBe(`'a;rm -rf /'`);
    expect(shellQuote('"quoted"')).toBe(`'"quoted"'`);
    expect(shellQuote('*')).toBe(`'*'`);
  });

  it("escapes single quotes as '\\''", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("'")).toBe(`''\\'''`);
  });
});

describe('runAgainCommand', () => {
  it("passes the run's overrides of the job's own variables, shell-quoted, and no others", () => {
    const job = { workflow: 'prepare', spec: { variables: { epochs: '3', lr: '0.5 0.25' } } };
    expect(runAgainCommand(job, { epochs: '3', lr: '0.5 0.25', depth: '8' })).toBe(
      "dstack run prepare --epochs 3 --lr '0.5 0.25'",
    );
    expect(runAgainCommand(job, {})).toBe('dstack run prepare');
  });
});
