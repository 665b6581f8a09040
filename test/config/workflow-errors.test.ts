import { describe, expect, it } from 'vitest';
import { parseWorkflows } from '../../src/config/index.js';
import { aliasBomb, configError, yaml } from './helpers.js';

/** The error for a workflows file whose first lines are `workflows:` and `  - name: train`. */
const trainError = (...lines: string[]) =>
  configError(() => parseWorkflows(yaml('workflows:', '  - name: train', ...lines)));

describe('workflows.yaml errors', () => {
  it("reports a YAML syntax error with its line and column and yaml's message", () => {
    const e = configError(() => parseWorkflows('workflows: [\n  - name: a\n'));
    expect(e.message).toBe('.dstack/workflows.yaml:2:3: Block collections are not allowed within flow collections');
    expect(e.location).toEqual({ file: '.dstack/workflows.yaml', line: 2, column: 3 });
  });

  it('reports a tab used for indentation', () => {
    expect(configError(() => parseWorkflows('workflows:\n\t- name: a\n')).message).toBe(
      '.dstack/workflows.yaml:2:1: Tabs are not allowed as indentation',
    );
  });

  it('reports a key written twice in one workflow', () => {
    const e = trainError('    image: a', '    image: b');
    expect(e.message).toBe(".dstack/workflows.yaml:4:5: duplicate key 'image'");
  });

  it('reports an unknown key with the closest valid one', () => {
    const e = trainError('    comands:', '      - echo hi');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:3:5: unknown key 'comands' in workflow 'train' (did you mean 'commands'?)",
    );
    expect(e.field).toBe('comands');
    expect(e.detail).toBe("unknown key 'comands' in workflow 'train' (did you mean 'commands'?)");
  });

  it("suggests 'depends-on' for 'depends_on'", () => {
    expect(trainError('    image: x', '    depends_on: [a]').message).toBe(
      ".dstack/workflows.yaml:4:5: unknown key 'depends_on' in workflow 'train' (did you mean 'depends-on'?)",
    );
  });

  it('lists the valid keys when no key is close', () => {
    expect(trainError('    image: x', '    colour: red').message).toBe(
      ".dstack/workflows.yaml:4:5: unknown key 'colour' in workflow 'train' (valid keys: name, provider, image, commands, " +
        'depends-on, artifacts, resources, environment, inputs, help, python_script, requirements, python, version, url, ' +
        'output, script, file, ports, deps, env, triggers)',
    );
  });

  it('reports an unknown resources key with the closest valid one', () => {
    const e = trainError('    image: x', '    resources:', '      gpus: 1');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:5:7: unknown key 'gpus' in 'resources' of workflow 'train' (did you mean 'gpu'?)",
    );
    expect(e.field).toBe('resources.gpus');
  });

  it('reports an unknown gpu key inside the gpu mapping', () => {
    expect(trainError('    image: x', '    resources:', '      gpu:', '        cont: 1').message).toBe(
      ".dstack/workflows.yaml:6:9: unknown key 'cont' in 'resources.gpu' of workflow 'train' (did you mean 'count'?)",
    );
  });

  it('reports a gpu that is neither a number nor a mapping', () => {
    expect(trainError('    image: x', '    resources:', '      gpu: [1]').message).toBe(
      ".dstack/workflows.yaml:5:7: 'resources.gpu' of workflow 'train' must be a number, or a mapping with count, name and memory, not a list",
    );
  });

  it("refuses variables in 'provider', which decides the workflow's keys as the file is read", () => {
    const why = 'the provider decides which keys the workflow may have, as the file is read; name it as it is';
    const e = trainError('    provider: ${{ p }}', '    commands: [ls]');
    expect([e.message, e.field]).toEqual([
      `.dstack/workflows.yaml:3:15: 'provider' of workflow 'train' cannot use variables ('\${{ p }}'): ${why}`,
      'provider',
    ]);
    expect(trainError('    provider: {repo: r, name: $p}').message).toBe(
      `.dstack/workflows.yaml:3:31: 'provider' of workflow 'train' cannot use variables ('$p'): ${why}`,
    );
  });

  it('reports an interruptible that is not a boolean', () => {
    expect(trainError('    image: x', '    resources:', '      interruptible: maybe').message).toBe(
      ".dstack/workflows.yaml:5:22: 'resources.interruptible' of workflow 'train' must be true or false, not 'maybe'",
    );
  });

  it('reports commands written as one string instead of a list', () => {
    const e = trainError('    commands: python train.py');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:3:15: 'commands' of workflow 'train' must be a list of strings, not a single value ('python train.py')",
    );
    expect(e.field).toBe('commands');
  });

  it('reports a command that is a mapping (an unquoted colon)', () => {
    const e = trainError('    commands:', '      - echo hi', '      - echo: hi');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:5:9: 'commands.1' of workflow 'train' must be a string, not a mapping: " +
        "YAML reads an unquoted ': ' as a mapping's key and value; put the whole text in quotes ('echo: hi')",
    );
    expect(e.field).toBe('commands.1');
  });

  it('shows a command with a colon inside its own quotes quoted whole', () => {
    const e = trainError('    commands:', '      - echo "it\'s: done"');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:4:9: 'commands.0' of workflow 'train' must be a string, not a mapping: " +
        "YAML reads an unquoted ': ' as a mapping's key and value; put the whole text in quotes ('echo \"it''s: done\"')",
    );
  });

  it('gives no quoting hint for a mapping of several keys where a string goes', () => {
    const e = trainError('    commands:', '      - a: 1', '        b: 2');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:4:9: 'commands.0' of workflow 'train' must be a string, not a mapping",
    );
  });

  it('reports an empty image', () => {
    expect(trainError('    image:', '    commands: [ls]').message).toBe(
      ".dstack/workflows.yaml:3:5: 'image' of workflow 'train' is empty: expected a string",
    );
  });

  it('reports an artifact that is a list', () => {
    expect(trainError('    image: x', '    artifacts:', '      - [a, b]').message).toBe(
      ".dstack/workflows.yaml:5:9: 'artifacts.0' of workflow 'train' must be a path, not a list",
    );
  });

  it('reports a parameter that is a mapping', () => {
    expect(trainError('    provider: python', '    python_script: {a: 1}').message).toBe(
      ".dstack/workflows.yaml:4:5: 'python_script' of workflow 'train' must be a value or a list of values, not a mapping",
    );
  });

  it('reports environment written as a single value', () => {
    expect(trainError('    image: x', '    environment: A=1').message).toBe(
      ".dstack/workflows.yaml:4:18: 'environment' of workflow 'train' must be a mapping of NAME: value, not a single value ('A=1')",
    );
  });

  it('reports an env list item without =', () => {
    expect(trainError('    image: x', '    env:', '      - PYTHONPATH').message).toBe(
      ".dstack/workflows.yaml:5:9: 'env.0' of workflow 'train' must be NAME=value, not 'PYTHONPATH'",
    );
  });

  it('refuses an environment key dstack sets for every job (DSTACK_RUN_NAME, run_name…), at its key', () => {
    const e = trainError('    commands: [ls]', '    environment:', '      DSTACK_RUN_NAME: mine');
    expect([e.message, e.field]).toEqual([
      ".dstack/workflows.yaml:5:7: environment variable 'DSTACK_RUN_NAME' of workflow 'train' is one dstack sets " +
        'for every job: rename it (a value may name it: $DSTACK_RUN_NAME)',
      'environment.DSTACK_RUN_NAME',
    ]);
    expect(trainError('    commands: [ls]', '    env: [job_id=1]').message).toBe(
      ".dstack/workflows.yaml:4:11: environment variable 'job_id' of workflow 'train' is one dstack sets " +
        'for every job: rename it (a value may name it: $job_id)',
    );
  });

  it('reports an environment variable name that is no name, at its key, read fast or by the schema', () => {
    const detail = (name: string) =>
      `environment variable name '${name}' of workflow 'train' is not valid: ` +
      "use letters, digits and '_', not starting with a digit";
    const cases: [key: string, name: string][] = [
      ['"A=B"', 'A=B'],
      ['""', ''],
      ['1BAD', '1BAD'],
      ['A-B', 'A-B'],
    ];
    for (const [key, name] of cases) {
      const fast = trainError('    image: x', '    environment:', '      OK: 1', `      ${key}: 2`);
      expect(fast.message).toBe(`.dstack/workflows.yaml:6:7: ${detail(name)}`);
      expect(fast.field).toBe(`environment.${name}`);
      // `artifacts: - path:` is not the common shape: this item is read by the zod schema.
      const full = trainError('    image: x', '    artifacts: [{path: a}]', '    environment:', `      ${key}: 2`);
      expect(full.message).toBe(`.dstack/workflows.yaml:6:7: ${detail(name)}`);
    }
    expect(trainError('    image: x', '    env:', '      - 1BAD=x').message).toBe(
      `.dstack/workflows.yaml:5:9: ${detail('1BAD')}`,
    );
  });

  it("reports both 'environment' and 'env'", () => {
    expect(trainError('    image: x', '    environment: {A: b}', '    env: [C=d]').message).toBe(
      ".dstack/workflows.yaml:5:5: workflow 'train' has both 'environment' and 'env': they are the same field, keep one",
    );
  });
});

describe('workflows.yaml errors in names and dependencies', () => {
  it('reports a duplicate workflow name with both lines', () => {
    const e = configError(() =>
      parseWorkflows(
        yaml(
          'workflows:',
          '  - name: train',
          '    image: a',
          '  - name: test',
          '    image: a',
          '  - name: train',
          '    image: b',
        ),
      ),
    );
    expect(e.message).toBe(".dstack/workflows.yaml:6:11: duplicate workflow name 'train': already defined at line 2");
    expect(e.field).toBe('name');
  });

  it('reports an invalid workflow name', () => {
    expect(configError(() => parseWorkflows(yaml('workflows:', '  - name: Train', '    image: a'))).message).toBe(
      ".dstack/workflows.yaml:2:11: invalid workflow name 'Train': use lowercase letters, digits, '-' and '_', starting with a letter or digit",
    );
  });

  it('reports a workflow without a name by its position', () => {
    const e = configError(() => parseWorkflows(yaml('workflows:', '  - name: a', '    image: x', '  - image: y')));
    expect(e.message).toBe(".dstack/workflows.yaml:4:5: workflow #2 has no 'name'");
    expect(e.field).toBe('name');
  });

  it('reports a workflow item that is not a mapping', () => {
    expect(configError(() => parseWorkflows(yaml('workflows:', '  - train'))).message).toBe(
      ".dstack/workflows.yaml:2:5: workflow #1 must be a mapping with a 'name', not a single value ('train')",
    );
  });

  it('reports a workflow with nothing to run', () => {
    const e = trainError('    artifacts: [a]');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:2:5: workflow 'train' has nothing to run: give it 'image' and 'commands' (docker), 'commands' (bash), or a 'provider'",
    );
    expect(e.field).toBe('provider');
  });

  it('reports the docker provider without an image', () => {
    expect(trainError('    provider: docker', '    commands: [ls]').message).toBe(
      ".dstack/workflows.yaml:3:15: workflow 'train' uses the docker provider but has no 'image'",
    );
  });

  it("reports an artifact's misspelt key rather than the path it leaves missing", () => {
    const e = trainError('    commands: [ls]', '    artifacts:', '      - pth: out');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:5:9: unknown key 'pth' in 'artifacts.0' of workflow 'train' (did you mean 'path'?)",
    );
  });

  it('reports a provider mapping without a name', () => {
    expect(trainError('    provider:', '      repo: https://github.com/a/b').message).toBe(
      ".dstack/workflows.yaml:4:7: 'provider' of workflow 'train' has no 'name'",
    );
  });

  it('reports a pinned provider version that contradicts version', () => {
    expect(trainError('    provider: python==3.8', '    version: 3.9', '    script: a.py').message).toBe(
      ".dstack/workflows.yaml:3:15: 'provider' of workflow 'train' pins version 3.8 but 'version' is 3.9: keep one",
    );
  });

  it('reports depends-on written as one name instead of a list', () => {
    expect(trainError('    image: x', '    depends-on: prepare').message).toBe(
      ".dstack/workflows.yaml:4:17: 'depends-on' of workflow 'train' must be a list of workflow names, not a single value ('prepare')",
    );
  });

  it('reports a dependency with an empty tag', () => {
    const e = trainError('    image: x', '    depends-on:', '      - prepare:');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:5:9: 'depends-on.0' of workflow 'train' ('prepare:') has an empty tag: write 'name' or 'name:tag'",
    );
    expect(e.field).toBe('depends-on.0');
  });

  it('reports a dependency whose tag is no tag name, rather than a tag that does not exist at submission', () => {
    const e = trainError('    image: x', '    depends-on:', "      - 'b:bad tag'");
    expect(e.message).toBe(
      ".dstack/workflows.yaml:5:9: 'depends-on.0' of workflow 'train' has the tag 'bad tag', which is not a valid " +
        "tag name: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100",
    );
    expect(e.field).toBe('depends-on.0');
    expect(trainError('    image: x', '    depends-on:', '      - {workflow: b, tag: a/b}').message).toContain(
      ".dstack/workflows.yaml:5:9: 'depends-on.0' of workflow 'train' has the tag 'a/b', which is not a valid tag name",
    );
  });

  it('reports a dependency on an invalid workflow name', () => {
    expect(trainError('    image: x', '    depends-on:', '      - ok', '      - Prepare Data').message).toBe(
      ".dstack/workflows.yaml:6:9: 'depends-on.1' of workflow 'train' names 'Prepare Data', which is not a valid workflow name",
    );
  });

  it('reports a dependency mapping with several keys', () => {
    expect(trainError('    image: x', '    depends-on:', '      - {a: x, b: y}').message).toBe(
      ".dstack/workflows.yaml:5:9: 'depends-on.0' of workflow 'train' must be 'name', 'name:tag', or a mapping {workflow, tag}, not a mapping with 2 keys",
    );
  });
});

describe('workflows.yaml errors at the top level', () => {
  it('reports an empty file', () => {
    expect(configError(() => parseWorkflows('# nothing yet\n')).message).toBe(
      ".dstack/workflows.yaml:1:1: the file has no workflows: add 'workflows:' with a list of workflows (- name: ...)",
    );
  });

  it('reports a misspelt top-level key', () => {
    const e = configError(() => parseWorkflows(yaml('workflow:', '  - name: a')));
    expect(e.message).toBe(".dstack/workflows.yaml:1:1: unknown top-level key 'workflow' (did you mean 'workflows'?)");
  });

  it('reports a file that is a list', () => {
    expect(configError(() => parseWorkflows(yaml('- name: a'))).message).toBe(
      ".dstack/workflows.yaml:1:1: the file must be a mapping with 'workflows:' at the top, not a list",
    );
  });

  it("reports 'workflows' that is not a list", () => {
    const e = configError(() => parseWorkflows(yaml('workflows:', '  name: a')));
    expect(e.message).toBe(
      ".dstack/workflows.yaml:1:1: 'workflows' must be a list of workflows (- name: ...), not a mapping",
    );
    expect(e.field).toBe('workflows');
  });

  it('reports an alias to an anchor that does not exist', () => {
    expect(trainError('    image: *base').message).toBe(".dstack/workflows.yaml:3:12: unknown alias '*base'");
  });

  it('reports aliases of aliases that expand a few lines into billions of values, at once', () => {
    const started = Date.now();
    expect(configError(() => parseWorkflows(aliasBomb())).message).toBe(
      ".dstack/workflows.yaml:9:51: alias '*a3' expands to more than 100,000 values " +
        '(aliases within the value an alias names multiply it)',
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports the error written first when there are several', () => {
    expect(trainError('    comands: [a]', '    image: [x]').message).toBe(
      ".dstack/workflows.yaml:3:5: unknown key 'comands' in workflow 'train' (did you mean 'commands'?)",
    );
  });
});
