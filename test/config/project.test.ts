import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProject, findProjectRoot, loadProject } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { yaml } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dstack-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(relative: string, text: string): void {
  mkdirSync(join(dir, relative, '..'), { recursive: true });
  writeFileSync(join(dir, relative), text);
}

describe('findProjectRoot', () => {
  const project = (folder: string, file = 'workflows.yaml') => write(join(folder, '.dstack', file), 'workflows:\n');

  it('finds the folder holding .dstack/workflows.yaml from a nested folder', () => {
    project('.');
    mkdirSync(join(dir, 'src', 'models', 'gpt'), { recursive: true });
    expect(findProjectRoot(join(dir, 'src', 'models', 'gpt'))).toBe(dir);
  });

  it('finds the folder itself when it holds .dstack/workflows.yaml', () => {
    project('.');
    expect(findProjectRoot(dir)).toBe(dir);
  });

  it('takes the nearest project when projects nest', () => {
    project('.');
    project('inner');
    expect(findProjectRoot(join(dir, 'inner'))).toBe(join(dir, 'inner'));
  });

  it('ignores a .dstack file that is not a folder', () => {
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', '.dstack'), '');
    project('.');
    expect(findProjectRoot(join(dir, 'a'))).toBe(dir);
  });

  it('passes a .dstack/ holding no project file: dstack’s state in ~/.dstack, or a stray empty one', () => {
    // The home folder's .dstack is the default DSTACK_HOME: its config, server and runner data.
    write('home/.dstack/config.yml', 'profiles: {}\n');
    mkdirSync(join(dir, 'home', '.dstack', 'server'));
    mkdirSync(join(dir, 'home', 'w'));
    expect(findProjectRoot(join(dir, 'home', 'w'))).toBeUndefined();
    project('home/project');
    mkdirSync(join(dir, 'home', 'project', 'sub', '.dstack'), { recursive: true });
    expect(findProjectRoot(join(dir, 'home', 'project', 'sub'))).toBe(join(dir, 'home', 'project'));
  });

  it('takes a .dstack/ holding variables.yaml or providers.yaml alone, or a link to no file, to say what it lacks', () => {
    project('v', 'variables.yaml');
    project('p', 'providers.yaml');
    mkdirSync(join(dir, 'l', '.dstack'), { recursive: true });
    symlinkSync(join(dir, 'gone.yaml'), join(dir, 'l', '.dstack', 'workflows.yaml'));
    for (const folder of ['v', 'p', 'l']) expect(findProjectRoot(join(dir, folder))).toBe(join(dir, folder));
  });

  it('returns undefined when no ancestor holds a project', () => {
    mkdirSync(join(dir, 'x'));
    // The temp folder's own ancestors hold no .dstack/ on a clean machine.
    expect(findProjectRoot(join(dir, 'x'))).toBeUndefined();
  });
});

describe('loadProject', () => {
  it('reads workflows and variables with project-relative locations', async () => {
    write(
      '.dstack/workflows.yaml',
      yaml(
        'workflows:',
        '  - name: train',
        '    image: python:3.10',
        '    commands:',
        '      - python train.py --lr $lr',
      ),
    );
    write('.dstack/variables.yaml', yaml('variables:', '  train:', '    lr: 0.00002'));
    const project = await loadProject(dir);
    expect(project.root).toBe(dir);
    expect(project.workflows[0]).toMatchObject({ name: 'train', provider: 'docker', image: 'python:3.10' });
    expect(project.workflows[0]!.location).toEqual({ file: '.dstack/workflows.yaml', line: 2, column: 5 });
    expect(project.variables.perWorkflow).toEqual({ train: { lr: '0.00002' } });
    expect(project.variables.locations['train.lr']).toEqual({ file: '.dstack/variables.yaml', line: 3, column: 9 });
    expect(project.warnings).toEqual([]);
  });

  it('works without variables.yaml', async () => {
    write('.dstack/workflows.yaml', yaml('workflows:', '  - name: a', '    commands: [ls]'));
    const project = await loadProject(dir);
    expect(project.variables).toEqual({ global: {}, perWorkflow: {}, locations: {} });
  });

  it('says where it looked and what to create when workflows.yaml is missing', async () => {
    mkdirSync(join(dir, '.dstack'));
    const error = await loadProject(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `.dstack/workflows.yaml: not found (looked for ${join(dir, '.dstack/workflows.yaml')}): ` +
        "create it with a 'workflows:' list, for example:\n" +
        'workflows:\n  - name: hello\n    provider: bash\n    commands:\n      - echo hello',
    );
  });

  it('reports errors in variables.yaml with its own file name', async () => {
    write('.dstack/workflows.yaml', yaml('workflows:', '  - name: a', '    commands: [ls]'));
    write('.dstack/variables.yaml', yaml('variables:', '  a:', '    x: [1]'));
    await expect(loadProject(dir)).rejects.toThrow(
      ".dstack/variables.yaml:3:5: variable 'x' in section 'a' must be a single value, not a list",
    );
  });

  it('refuses a file that is not UTF-8 at the line of its first bad byte, rather than change its text', async () => {
    write('.dstack/workflows.yaml', yaml('workflows:', '  - name: a', '    commands: [ls]'));
    writeFileSync(join(dir, '.dstack', 'variables.yaml'), Buffer.from('variables:\n  a:\n    x: caf\xe9\n', 'latin1'));
    await expect(loadProject(dir)).rejects.toThrow(
      ".dstack/variables.yaml:3:11: byte 0xe9 (in Latin-1, 'é') is not UTF-8 text",
    );
    writeFileSync(
      join(dir, '.dstack', 'workflows.yaml'),
      Buffer.from('workflows:\n  - name: a\n    commands: [echo caf\xe9]\n', 'latin1'),
    );
    await expect(loadProject(dir)).rejects.toThrow('.dstack/workflows.yaml:3:24: byte 0xe9');
  });

  it('says a workflows.yaml or variables.yaml that links to a missing file is such a link', async () => {
    mkdirSync(join(dir, '.dstack'));
    symlinkSync('../shared/workflows.yaml', join(dir, '.dstack', 'workflows.yaml'));
    const link = join(dir, '.dstack', 'workflows.yaml');
    await expect(loadProject(dir)).rejects.toThrow(
      `.dstack/workflows.yaml: is a link to ../shared/workflows.yaml, which does not exist: fix the link or remove it`,
    );
    rmSync(link);
    write('.dstack/workflows.yaml', yaml('workflows:', '  - name: a', '    commands: [ls]'));
    symlinkSync('gone.yaml', join(dir, '.dstack', 'variables.yaml'));
    await expect(loadProject(dir)).rejects.toThrow('.dstack/variables.yaml: ');
  });
});

describe('buildProject', () => {
  it('warns about a variables section that names no workflow', () => {
    const project = buildProject(
      '/p',
      yaml('workflows:', '  - name: download', '    commands: [ls]', '  - name: train', '    commands: [ls]'),
      yaml('variables:', '  global:', '    seed: 1', '  train-mnist:', '    lr: 1.0', '  train:', '    lr: 2.0'),
    );
    expect(project.warnings).toEqual([
      ".dstack/variables.yaml:4:3: variables.yaml section 'train-mnist' names no workflow " +
        '(its variables apply to no run; workflows: download, train)',
    ]);
    expect(project.variables.global).toEqual({ seed: '1' });
  });

  it("warns that a workflow named 'global' has no variables section of its own", () => {
    const project = buildProject('/p', yaml('workflows:', '  - name: global', '    commands: [ls]'));
    expect(project.warnings).toEqual([
      ".dstack/workflows.yaml:2:11: workflow 'global' has no variables.yaml section of its own: 'global:' is the " +
        'section every workflow sees (its $variables_as_args is empty); rename the workflow to give it variables of its own',
    ]);
  });

  it("suggests the workflow a variables section's name is close to", () => {
    const project = buildProject(
      '/p',
      yaml('workflows:', '  - name: finetune_model', '    commands: [ls]'),
      yaml('variables:', '  finetune-model:', '    lr: 1.0'),
    );
    expect(project.warnings).toEqual([
      ".dstack/variables.yaml:2:3: variables.yaml section 'finetune-model' names no workflow " +
        "(its variables apply to no run; did you mean 'finetune_model'?)",
    ]);
  });

  it("suggests 'global' for a misspelt global section", () => {
    const project = buildProject(
      '/p',
      yaml('workflows:', '  - name: train', '    commands: [ls]'),
      yaml('variables:', '  globl:', '    seed: 1'),
    );
    expect(project.warnings).toEqual([
      ".dstack/variables.yaml:2:3: variables.yaml section 'globl' names no workflow " +
        "(its variables apply to no run; did you mean 'global'?)",
    ]);
  });

  it("says when a variable would set the job's locale to no locale (lang: en is its LANG=en)", () => {
    const project = buildProject(
      '/p',
      yaml('workflows:', '  - name: train', '    commands: [ls]'),
      yaml('variables:', '  global:', '    lang: en', '    lc_all: C.UTF-8', '  train:', '    LC_TIME: de_DE.UTF-8'),
    );
    expect(project.warnings).toEqual([
      ".dstack/variables.yaml:3:11: variable 'lang' is the job's LANG=en (each variable is in the job's " +
        'environment, upper-cased), which names no locale (like en_US.UTF-8): programs in the job may warn or ' +
        'fall back to C; rename the variable unless that is meant',
    ]);
  });

  it('keeps warnings from workflows.yaml too', () => {
    const project = buildProject(
      '/p',
      yaml('workflows:', '  - name: a', '    commands: [ls]', '    resources:', '      nodes: 2'),
    );
    expect(project.warnings).toHaveLength(1);
    expect(project.warnings[0]).toMatch(
      /^\.dstack\/workflows\.yaml:5:14: 'resources\.nodes' of workflow 'a' is ignored/,
    );
  });
});
