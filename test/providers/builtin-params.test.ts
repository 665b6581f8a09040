/**
 * What built-in providers check when they plan: curl, a URL it can fetch and an output inside
 * the project; python, a script and a requirements file that are in the project, or a list of
 * packages without pip options or file names in it.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countedCode } from '../../src/core/inputs.js';
import { planError, planProject, tempDir, writeFiles } from './helpers.js';

describe('curl parameters', () => {
  let base: string;
  beforeAll(async () => {
    base = await tempDir();
    await writeFiles(join(base, 'p'), {
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: ftp',
        '    provider: curl',
        '    url: ftp://example.org/data.txt',
        '    output: data.txt',
        '  - name: outside',
        '    provider: curl',
        '    url: https://example.org/data.txt',
        '    output: ../data.txt',
        '  - name: folder',
        '    provider: curl',
        '    url: https://example.org/files/input.txt?raw=1',
        '    output: raw_dataset/',
        '  - name: shm',
        '    provider: curl',
        '    url: https://example.org/data.txt',
        '    output: data.txt',
        '    resources: {shm_size: 1GB}',
        '  - name: nourl',
        '    provider: curl',
        '    output: data.txt',
        '  - name: blankurl',
        '    provider: curl',
        '    url: ""',
        '    output: data.txt',
        '  - name: root',
        '    provider: curl',
        '    url: https://example.org/',
        '    output: .',
        '',
      ].join('\n'),
    });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('refuses a url that is not http or https, at its line', async () => {
    expect((await planError(join(base, 'p'), 'ftp')).message).toBe(
      ".dstack/workflows.yaml:4:10: invalid url 'ftp://example.org/data.txt' of workflow 'ftp': expected an http:// or https:// URL",
    );
  });

  it('refuses an output outside the project', async () => {
    expect((await planError(join(base, 'p'), 'outside')).message).toBe(
      ".dstack/workflows.yaml:9:13: output '../data.txt' of workflow 'outside' must be a path inside the project (relative, without '..')",
    );
  });

  it('refuses a url that is missing, at the workflow, or empty, at its line', async () => {
    expect((await planError(join(base, 'p'), 'nourl')).message).toBe(
      ".dstack/workflows.yaml:19:5: workflow 'nourl' uses the curl provider, which needs 'url'",
    );
    const blank = await planError(join(base, 'p'), 'blankurl');
    expect(blank.message).toBe(
      ".dstack/workflows.yaml:24:10: 'url' of workflow 'blankurl' is empty: the curl provider needs it",
    );
    expect(blank.field).toBe('url');
  });

  it("warns that shm_size is ignored by a job on the runner's host", async () => {
    expect((await planProject(join(base, 'p'), 'shm')).warnings).toEqual([
      ".dstack/workflows.yaml:18:27: 'resources.shm_size' of workflow 'shm' is ignored: it sizes a container's " +
        "/dev/shm, and the curl provider runs on the runner's host (give the workflow an image to run it in a container)",
    ]);
  });

  it('refuses an output that names a folder, suggesting the file the URL names', async () => {
    expect((await planError(join(base, 'p'), 'folder')).message).toBe(
      ".dstack/workflows.yaml:13:13: output 'raw_dataset/' of workflow 'folder' names a folder: the curl provider " +
        'writes one file, so name it (output: raw_dataset/input.txt)',
    );
    expect((await planError(join(base, 'p'), 'root')).message).toBe(
      ".dstack/workflows.yaml:29:13: output '.' of workflow 'root' names a folder: the curl provider " +
        'writes one file, so name it (output: data.bin)',
    );
  });
});

describe('python requirements', () => {
  let base: string;
  const root = () => join(base, 'p');
  const python = (name: string, requirements: string) =>
    `  - name: ${name}\n    provider: python\n    python_script: main.py\n    requirements: ${requirements}\n`;
  beforeAll(async () => {
    base = await tempDir();
    await writeFiles(root(), {
      'main.py': 'print("hi")\n',
      'requirements.txt': 'tinypkg==0.1\n',
      'deps/dev.txt': 'tinypkg==0.1\n',
      '.dstack/workflows.yaml':
        'workflows:\n' +
        python('ok', 'requirements.txt') +
        python('nested', 'deps/dev.txt') +
        python('missing', 'nope.txt') +
        python('outside', '../requirements.txt') +
        python('absolute', '/etc/hostname') +
        python('folder', 'deps') +
        python('var', '${{ reqs }}') +
        python('packages', '[tinypkg==0.1, "numpy; python_version >= \'3.8\'"]') +
        python('option', '[tinypkg, --index-url=https://example.com/simple]') +
        python('listed-file', '[requirements.txt]') +
        '  - name: script-list\n    provider: python\n    python_script: [main.py]\n' +
        python('block-option', '\n      - tinypkg\n      - --upgrade'),
    });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('plans a requirements file of the project, in a subfolder too', async () => {
    expect((await planProject(root(), 'ok')).jobs[0]!.params).toMatchObject({ requirements: 'requirements.txt' });
    expect((await planProject(root(), 'nested')).jobs[0]!.params).toMatchObject({ requirements: 'deps/dev.txt' });
  });

  it('refuses a requirements file that does not exist, at its line, before anything is submitted', async () => {
    const e = await planError(root(), 'missing');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:13:19: requirements file 'nope.txt' of workflow 'missing' does not exist in the " +
        'project (a path relative to the folder that holds .dstack)',
    );
    expect(e.field).toBe('requirements');
  });

  it('refuses the name a variable gives, when no such file exists', async () => {
    expect((await planError(root(), 'var', { overrides: { reqs: 'dev.txt' } })).detail).toBe(
      "requirements file 'dev.txt' of workflow 'var' does not exist in the project " +
        '(a path relative to the folder that holds .dstack)',
    );
    const p = await planProject(root(), 'var', { overrides: { reqs: 'deps/dev.txt' } });
    expect(p.jobs[0]!.params).toMatchObject({ requirements: 'deps/dev.txt' });
  });

  it('refuses a requirements file outside the project, or one that is a folder', async () => {
    expect((await planError(root(), 'outside')).message).toBe(
      ".dstack/workflows.yaml:17:19: requirements file '../requirements.txt' of workflow 'outside' must be a " +
        "path inside the project (relative, without '..')",
    );
    expect((await planError(root(), 'absolute')).detail).toBe(
      "requirements file '/etc/hostname' of workflow 'absolute' must be a path inside the project (relative, without '..')",
    );
    expect((await planError(root(), 'folder')).detail).toBe(
      "requirements file 'deps' of workflow 'folder' is not a file",
    );
  });

  it('plans the packages as they are listed', async () => {
    expect((await planProject(root(), 'packages')).jobs[0]!.params).toMatchObject({
      requirements: ['tinypkg==0.1', "numpy; python_version >= '3.8'"],
    });
  });

  it("refuses pip's options and a file's name in the list, at the item, saying what to write", async () => {
    expect((await planError(root(), 'option')).message).toBe(
      ".dstack/workflows.yaml:37:29: '--index-url=https://example.com/simple' in the requirements of workflow 'option' " +
        "is an option of pip's, not a package: put options in a requirements file, or in pip's environment (PIP_INDEX_URL)",
    );
    const e = await planError(root(), 'listed-file');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:41:20: 'requirements.txt' in the requirements of workflow 'listed-file' names a file: " +
        "a requirements file is written 'requirements: requirements.txt'",
    );
    expect(e.field).toBe('requirements.0');
    // A block list's item, on a line of its own.
    const block = await planError(root(), 'block-option');
    expect(block.message).toBe(
      ".dstack/workflows.yaml:50:9: '--upgrade' in the requirements of workflow 'block-option' is an option of " +
        "pip's, not a package: put options in a requirements file, or in pip's environment (PIP_INDEX_URL)",
    );
    expect(block.field).toBe('requirements.1');
  });

  it('refuses a script given as a list, naming the key it found', async () => {
    expect((await planError(root(), 'script-list')).message).toBe(
      ".dstack/workflows.yaml:44:5: 'python_script' of workflow 'script-list' must be one value, not a list",
    );
  });
});

describe('python script', () => {
  let base: string;
  const root = () => join(base, 'p');
  const python = (name: string, script: string, key = 'python_script') =>
    `  - name: ${name}\n    provider: python\n    ${key}: ${script}\n`;
  beforeAll(async () => {
    base = await tempDir();
    await writeFiles(root(), {
      'train.py': 'print("hi")\n',
      'pkg/__main__.py': 'print("hi")\n',
      'lib/util.py': 'X = 1\n',
      '.dstack/workflows.yaml':
        'workflows:\n' +
        python('missing', 'missing.py') +
        python('args', 'missing.py --epochs 3') +
        python('spelling', 'src/gone.py', 'script') +
        python('ok', 'train.py --epochs 3') +
        python('folder', 'pkg') +
        python('module', '-m http.server') +
        python('absolute', '/opt/app/train.py') +
        python('shell', '$HOME/train.py') +
        python('var', '${{ s }}') +
        python('outside', '../outside.py --epochs 3') +
        python('climbs', 'pkg/../../outside.py') +
        python('inside', 'pkg/../train.py') +
        python('interpreter', 'python3 train.py --epochs 3') +
        python('library', 'lib/'),
    });
    // It exists, beside the project: the job, run from its workspace, would not find it.
    await writeFiles(base, { 'outside.py': 'print("hi")\n' });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const missing = (file: string, wf: string) =>
    `python script '${file}' of workflow '${wf}' does not exist in the project (a path relative to the folder that holds .dstack)`;

  it('refuses a script that does not exist, at its line and field, before anything is submitted', async () => {
    const e = await planError(root(), 'missing');
    expect(e.message).toBe(`.dstack/workflows.yaml:4:20: ${missing('missing.py', 'missing')}`);
    expect(e.field).toBe('python_script');
    expect((await planError(root(), 'args')).message).toBe(
      `.dstack/workflows.yaml:7:20: ${missing('missing.py', 'args')}`,
    );
    const spelling = await planError(root(), 'spelling');
    expect(spelling.message).toBe(`.dstack/workflows.yaml:10:13: ${missing('src/gone.py', 'spelling')}`);
    expect(spelling.field).toBe('script');
  });

  it('refuses the name a variable gives, when no such file exists', async () => {
    expect((await planError(root(), 'var', { overrides: { s: 'nope.py' } })).detail).toBe(missing('nope.py', 'var'));
    await expect(planProject(root(), 'var', { overrides: { s: 'train.py' } })).resolves.toBeDefined();
  });

  it('refuses a folder without a __main__.py, which python cannot run', async () => {
    const e = await planError(root(), 'library');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:43:20: python script 'lib/' of workflow 'library' is a folder without a __main__.py, " +
        'which python would run: name the script in it (folder/train.py)',
    );
    expect(e.field).toBe('python_script');
  });

  it('says the interpreter is not the script when python_script starts with one', async () => {
    const e = await planError(root(), 'interpreter');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:40:20: python script 'python3' of workflow 'interpreter' is the interpreter, which the " +
        "python provider runs itself: write the script and its arguments (python_script: 'train.py --epochs 3')",
    );
    expect(e.field).toBe('python_script');
  });

  it('refuses a script that leaves the project with .., at its line and field', async () => {
    const e = await planError(root(), 'outside');
    expect(e.message).toBe(
      ".dstack/workflows.yaml:31:20: python script '../outside.py' of workflow 'outside' leaves the project folder: " +
        'name a file inside it (a path relative to the folder that holds .dstack), or an absolute path',
    );
    expect(e.field).toBe('python_script');
    expect((await planError(root(), 'climbs')).detail).toMatch(
      /^python script 'pkg\/\.\.\/\.\.\/outside\.py' of workflow 'climbs' leaves the project folder/,
    );
  });

  it("plans a script of the project with its arguments, a folder, a module, and paths the project can't answer for", async () => {
    for (const wf of ['ok', 'folder', 'module', 'absolute', 'shell', 'inside']) {
      expect((await planProject(root(), wf)).jobs.map((j) => j.ref)).toEqual([wf]);
    }
  });
});

describe('python files and inputs', () => {
  let base: string;
  const root = () => join(base, 'p');
  beforeAll(async () => {
    base = await tempDir();
    await writeFiles(root(), {
      'src/train (v2).py': 'print("hi")\n',
      'reqs[dev].txt': 'tinypkg==0.1\n',
      '.dstack/workflows.yaml': [
        'workflows:',
        '  - name: train',
        '    provider: python',
        '    python_script: "\'./src/train (v2).py\' --epochs 3"',
        '    requirements: reqs[dev].txt',
        "    inputs: ['data/**']",
        '  - name: module',
        '    provider: python',
        '    python_script: -m http.server',
        "    inputs: ['data/**']",
        '  - name: excluding',
        '    provider: python',
        '    python_script: "\'src/train (v2).py\'"',
        "    inputs: ['src/train \\(v2\\).py', 'data/**', '!**/*.py', '!README.md']",
        '',
      ].join('\n'),
    });
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  const file = (path: string) => ({ path, size: 1, mode: 0o644, digest: path.length.toString(16).padStart(64, '0') });
  const manifest = [
    'src/train (v2).py',
    'src/train (v3).py',
    'reqs[dev].txt',
    'reqsd.txt',
    'data/a.csv',
    'README.md',
  ].map(file);

  it("counts the script and the requirements file for the key whatever 'inputs' say, and nothing like them", async () => {
    const [job] = (await planProject(root(), 'train')).jobs;
    expect(job!.inputs).toEqual(['data/**', 'src/train \\(v2\\).py', 'reqs\\[dev\\].txt']);
    expect(countedCode(manifest, job!.inputs).map((f) => f.path)).toEqual([
      'src/train (v2).py',
      'reqs[dev].txt',
      'data/a.csv',
    ]);
  });

  it("counts the script after the workflow's exclusions, which cannot leave it out", async () => {
    const [job] = (await planProject(root(), 'excluding')).jobs;
    expect(job!.inputs).toEqual(['data/**', '!**/*.py', '!README.md', 'src/train \\(v2\\).py']);
    expect(countedCode(manifest, job!.inputs).map((f) => f.path)).toEqual(['src/train (v2).py', 'data/a.csv']);
  });

  it('adds no file for a script that is an option (python -m)', async () => {
    expect((await planProject(root(), 'module')).jobs[0]!.inputs).toEqual(['data/**']);
  });
});
