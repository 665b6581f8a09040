import { describe, expect, it } from 'vitest';
import { parseVariables } from '../../src/config/index.js';
import { parseVariablesFully, VARIABLES_FILE } from '../../src/config/variables.js';
import { configError, yaml } from './helpers.js';

const GPT2 = `variables:
  global:
    model: 124M
    models_dir: model

  finetune-model:
    combine: 50000
    encoding: utf-8
    batch_size: 1
    learning_rate: 0.00002
    accumulate_gradients: 1
    twremat_memlimit: 12GB
    optimizer: adam
    noise: 0.0
    top_k: 40
    top_p: 0.0
    restore_from: latest
    sample_every: 100
    sample_length: 1023
    sample_num: 1
    save_every: 1000
    val_batch_size: 2
    val_batch_count: 40
    val_every: 0
`;

const file = '.dstack/variables.yaml';

describe('parseVariables', () => {
  it('reads the GPT-2 example: global apart, each value as written', () => {
    const vars = parseVariables(GPT2);
    expect(vars.global).toEqual({ model: '124M', models_dir: 'model' });
    expect(Object.keys(vars.perWorkflow)).toEqual(['finetune-model']);
    const finetune = vars.perWorkflow['finetune-model']!;
    expect(finetune).toMatchObject({
      learning_rate: '0.00002',
      batch_size: '1',
      noise: '0.0',
      top_p: '0.0',
      combine: '50000',
      twremat_memlimit: '12GB',
    });
    // $variables_as_args follows definition order.
    expect(Object.keys(finetune).slice(0, 4)).toEqual(['combine', 'encoding', 'batch_size', 'learning_rate']);
  });

  it('records where each variable was written, keyed section.name', () => {
    const vars = parseVariables(GPT2);
    expect(vars.locations['global.model']).toEqual({ file, line: 3, column: 12 });
    expect(vars.locations['finetune-model.learning_rate']).toEqual({ file, line: 10, column: 20 });
    expect(vars.locations['finetune-model']).toEqual({ file, line: 6, column: 3 });
  });

  it("keeps 2e-5, booleans and '' as written", () => {
    const vars = parseVariables(
      yaml(
        'variables:',
        '  train:',
        '    lr: 2e-5',
        '    amp: true',
        '    yes_no: yes',
        '    overrides: ""',
        '    empty:',
      ),
    );
    expect(vars.perWorkflow['train']).toEqual({ lr: '2e-5', amp: 'true', yes_no: 'yes', overrides: '', empty: '' });
  });

  it("reads keys such as 'n' and 'on' as names, not booleans", () => {
    expect(parseVariables(yaml('variables:', '  global:', '    n: 1', '    on: 2')).global).toEqual({
      n: '1',
      on: '2',
    });
  });

  it('accepts an empty file, an empty variables: and an empty section', () => {
    expect(parseVariables('')).toEqual({ global: {}, perWorkflow: {}, locations: {} });
    expect(parseVariables('variables:\n')).toEqual({ global: {}, perWorkflow: {}, locations: {} });
    expect(parseVariables('variables:\n  train:\n').perWorkflow).toEqual({ train: {} });
  });

  it('accepts 1-space indentation, trailing spaces and no final newline', () => {
    const vars = parseVariables('variables:\n train-mnist:\n   gpu: 0 \n   lr: 1.0\n    ');
    expect(vars.perWorkflow['train-mnist']).toEqual({ gpu: '0', lr: '1.0' });
    expect(parseVariables('variables:\n  train:\n    pgpu: 1').perWorkflow['train']).toEqual({ pgpu: '1' });
  });
});

describe('variables.yaml errors', () => {
  it('reports a variable name with a space, at its key', () => {
    const e = configError(() => parseVariables(yaml('variables:', '  a:', '    x: 1', '    "y z": 2')));
    expect(e.message).toBe(
      ".dstack/variables.yaml:4:5: variable name 'y z' in section 'a' is not valid: use letters, digits, '_' and '-', " +
        "starting with a letter or '_'",
    );
    expect(e.field).toBe('a.y z');
  });

  it('reports an empty variable name, and one starting with a digit or a dash', () => {
    const cases: [key: string, name: string][] = [
      ['""', ''],
      ['1x', '1x'],
      ['-x', '-x'],
      ['a.b', 'a.b'],
    ];
    for (const [key, name] of cases) {
      expect(configError(() => parseVariables(yaml('variables:', '  global:', `    ${key}: 1`))).message).toBe(
        `.dstack/variables.yaml:3:5: variable name '${name}' in section 'global' is not valid: use letters, digits, ` +
          "'_' and '-', starting with a letter or '_'",
      );
    }
  });

  it("refuses a variable that would replace the PATH, HOME or a variable of dstack's in the job's environment", () => {
    const e = configError(() => parseVariables(yaml('variables:', '  inspect:', '    rows: 5', '    path: data/raw')));
    expect(e.message).toBe(
      ".dstack/variables.yaml:4:5: variable 'path' in section 'inspect' would replace the job's PATH " +
        "(each variable is in the job's environment, upper-cased): rename it",
    );
    expect(e.field).toBe('inspect.path');
    for (const [name, kept] of [
      ['Home', 'HOME'],
      ['ld_preload', 'LD_PRELOAD'],
      ['bash_env', 'BASH_ENV'],
      ['dstack_run_name', 'DSTACK_RUN_NAME'],
      ['cuda_visible_devices', 'CUDA_VISIBLE_DEVICES'],
    ]) {
      expect(configError(() => parseVariables(yaml('variables:', '  global:', `    ${name}: x`))).message).toContain(
        `variable '${name}' in section 'global' would replace the job's ${kept} `,
      );
    }
    // Names that only contain one of those are the project's own.
    expect(parseVariables(yaml('variables:', '  global:', '    data_path: x', '    pythonpath: src')).global).toEqual({
      data_path: 'x',
      pythonpath: 'src',
    });
  });

  it('refuses a variable named as a system variable ($run_name, $job_id, $variables_as_args), at its name', () => {
    const e = configError(() => parseVariables(yaml('variables:', '  a:', '    epochs: 3', '    run_name: mine')));
    expect(e.message).toBe(
      ".dstack/variables.yaml:4:5: variable 'run_name' in section 'a' has the name of a system variable: " +
        "$run_name is the run's name, which dstack sets: rename it",
    );
    expect(e.field).toBe('a.run_name');
    expect(configError(() => parseVariables(yaml('variables:', '  global:', '    job_id: 7'))).message).toBe(
      ".dstack/variables.yaml:3:5: variable 'job_id' in section 'global' has the name of a system variable: " +
        "$job_id is the job's id, which dstack sets: rename it",
    );
    expect(configError(() => parseVariables(yaml('variables:', '  global:', '    variables_as_args: x'))).message).toBe(
      ".dstack/variables.yaml:3:5: variable 'variables_as_args' in section 'global' has the name of a system " +
        "variable: $variables_as_args is the workflow's variables as --name value, which dstack sets: rename it",
    );
    // Read by the full parser too (a file js-yaml alone does not take).
    expect(
      configError(() => parseVariablesFully(yaml('variables:', '  a:', '    run_name: &x mine'), VARIABLES_FILE))
        .message,
    ).toContain(".dstack/variables.yaml:3:5: variable 'run_name' in section 'a' has the name of a system variable");
    // Only those names: another case or a longer name is the project's own.
    expect(parseVariables(yaml('variables:', '  global:', '    RUN_NAME: x', '    run_name_prefix: y')).global).toEqual(
      {
        RUN_NAME: 'x',
        run_name_prefix: 'y',
      },
    );
  });

  it('accepts the names real projects use: dashes, underscores, capitals', () => {
    const vars = parseVariables(yaml('variables:', '  train:', '    learning-rate: 2e-5', '    _x: 1', '    LR_2: 3'));
    expect(Object.keys(vars.perWorkflow['train']!)).toEqual(['learning-rate', '_x', 'LR_2']);
  });

  it('reports a list as a variable value', () => {
    const e = configError(() => parseVariables(yaml('variables:', '  train:', '    lr: [1, 2]')));
    expect(e.message).toBe(
      ".dstack/variables.yaml:3:5: variable 'lr' in section 'train' must be a single value, not a list",
    );
    expect(e.field).toBe('train.lr');
  });

  it('reports a mapping as a variable value', () => {
    expect(
      configError(() => parseVariables(yaml('variables:', '  global:', '    opt:', '      name: adam'))).message,
    ).toBe(".dstack/variables.yaml:3:5: variable 'opt' in section 'global' must be a single value, not a mapping");
  });

  it('reports a section that is a single value', () => {
    const e = configError(() => parseVariables(yaml('variables:', '  model: 124M')));
    expect(e.message).toBe(
      ".dstack/variables.yaml:2:10: variables section 'model' must be a mapping of name: value, not a single value ('124M')",
    );
    expect(e.field).toBe('model');
  });

  it("reports 'variables' that is a list", () => {
    const e = configError(() => parseVariables(yaml('variables:', '  - model')));
    expect(e.message).toBe(
      ".dstack/variables.yaml:1:1: 'variables' must be a mapping of sections (global:, <workflow>:), not a list",
    );
    expect(e.field).toBe('variables');
  });

  it('reports a misspelt top-level key', () => {
    expect(configError(() => parseVariables(yaml('variable:', '  global: {}'))).message).toBe(
      ".dstack/variables.yaml:1:1: unknown top-level key 'variable' (did you mean 'variables'?)",
    );
  });

  it('reports a variable defined twice in one section', () => {
    expect(configError(() => parseVariables(yaml('variables:', '  train:', '    lr: 1', '    lr: 2'))).message).toBe(
      ".dstack/variables.yaml:4:5: duplicate key 'lr'",
    );
  });

  it('reports a YAML syntax error where it is: a quote never closed, where it opens', () => {
    expect(configError(() => parseVariables(yaml('variables:', '  train:', '    lr: "0.1'))).message).toBe(
      '.dstack/variables.yaml:3:9: this double quote is never closed',
    );
  });
});
