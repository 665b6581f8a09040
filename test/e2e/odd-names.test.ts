/**
 * File names a job on Linux may write: a backslash is part of a name, in artifacts and in code
 * alike; a name that is not UTF-8 is refused, named; control characters are shown escaped.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promisify } from 'node:util';
import { Sandbox } from './harness.js';

const execFileAsync = promisify(execFile);

const WORKFLOWS = `workflows:
  - name: odd
    commands:
      - mkdir -p out/sub
      - echo good > out/good.txt
      - echo weird > 'out/..\\weird.txt'
      - echo back > 'out/sub/back\\slash.txt'
    artifacts: [out]
  - name: use
    depends-on: [odd]
    commands:
      - find out -type f | LC_ALL=C sort
      - cat 'out/..\\weird.txt' 'code\\file.txt'
`;

describe('names with a backslash', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS, 'code\\file.txt': 'code\n' });
  });
  afterAll(() => sb.dispose());

  it('reach a dependent job and an artifacts download as they were written', async () => {
    const r = await sb.dstack(['run', 'use']);
    expect(r.stderr).not.toContain('leaves its folder');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      ['out/..\\weird.txt', 'out/good.txt', 'out/sub/back\\slash.txt', 'weird', 'code']
        .map((l) => `use | ${l}\n`)
        .join(''),
    );
    const run = await sb.lastRun();
    const out = join(sb.root, '..', 'odd-out');
    expect((await sb.dstack(['artifacts', run.jobs[0]!.id, '-o', out])).code).toBe(0);
    expect(await readFile(join(out, 'out', '..\\weird.txt'), 'utf8')).toBe('weird\n');
    expect(await readFile(join(out, 'out', 'sub', 'back\\slash.txt'), 'utf8')).toBe('back\n');
  });
});

const UNPRINTABLE_WORKFLOWS = `workflows:
  - name: not-utf8
    commands:
      - mkdir -p o
      - printf x > o/ok.txt
      - printf x > "$(printf 'o/bad\\377.txt')"
      - mkdir "$(printf 'o/dir\\376')" && printf x > "$(printf 'o/dir\\376/inside')"
      - ls o | wc -l
    artifacts: [o]
  - name: link-not-utf8
    commands:
      - mkdir -p o
      - ln -s "$(printf 'bad\\375')" o/link
    artifacts: [o]
  - name: controls
    commands:
      - mkdir -p o
      - printf x > "$(printf 'o/\\033[31mred.txt')"
      - printf x > "$(printf 'o/new\\nline.txt')"
      - printf x > "$(printf 'o/tab\\there.txt')"
      - printf x > 'o/café-模型-😀.txt'
      - ln -s "$(printf '/etc/\\033[2J')" o/out
    artifacts: [o]
  - name: code
    commands:
      - ls
`;

/** The last run's first job. */
async function lastJob(sb: Sandbox) {
  return (await sb.lastRun()).jobs[0]!;
}

describe('names a terminal cannot show as they are', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': UNPRINTABLE_WORKFLOWS });
  });
  afterAll(() => sb.dispose());

  it('fail the save of artifacts whose names are not UTF-8, naming them with their bytes escaped', async () => {
    const r = await sb.dstack(['run', 'not-utf8']);
    expect(r.code).toBe(1);
    const reason =
      "artifact 'o': 2 names are not UTF-8: o/bad\\xff.txt, o/dir\\xfe (dstack stores UTF-8 names only); " +
      "rename them in the job's commands, or keep them out of the artifact";
    expect(r.stdout).toBe('3\n'); // the job saw all three
    expect(r.stderr).toContain(`[dstack] ${reason}\n`);
    const job = await lastJob(sb);
    expect([job.status, job.reason]).toEqual(['FAILED', reason]);

    expect((await sb.dstack(['run', 'link-not-utf8'])).code).toBe(1);
    expect((await lastJob(sb)).reason).toBe(
      "artifact 'o': a name is not UTF-8: o/link -> bad\\xfd (dstack stores UTF-8 names only); " +
        "rename it in the job's commands, or keep it out of the artifact",
    );
  });

  it('list, download and note artifacts with control characters in their names escaped', async () => {
    const r = await sb.dstack(['run', 'controls']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "[dstack] artifact 'o': left out o/out -> /etc/\\x1b[2J (a link to outside the artifact)\n",
    );
    expect(r.stdout + r.stderr).not.toContain('\x1b');
    const { id } = await lastJob(sb);

    const listed = await sb.dstack(['artifacts', id]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')).toEqual([
      expect.stringMatching(/^ARTIFACT\s+FILE\s+SIZE$/),
      expect.stringMatching(/^o\s+o\/\\x1b\[31mred\.txt\s+1B$/),
      expect.stringMatching(/^o\s+o\/café-模型-😀\.txt\s+1B$/),
      expect.stringMatching(/^o\s+o\/new\\nline\.txt\s+1B$/),
      expect.stringMatching(/^o\s+o\/tab\\there\.txt\s+1B$/),
      '',
    ]);

    // The files themselves come back as they were named.
    const out = join(sb.root, '..', 'controls-out');
    expect((await sb.dstack(['artifacts', id, '-o', out])).code).toBe(0);
    expect((await readdir(join(out, 'o'))).sort()).toEqual(
      ['\x1b[31mred.txt', 'café-模型-😀.txt', 'new\nline.txt', 'tab\there.txt'].sort(),
    );
    const again = await sb.dstack(['artifacts', id, '-o', out]);
    expect(again.stdout).toContain(
      `replaced 4 files that ${out} had (o/\\x1b[31mred.txt, o/café-模型-😀.txt, o/new\\nline.txt, …)\n`,
    );
  });

  it("refuse a project's code with a name that is not UTF-8, before anything runs, and say what to do", async () => {
    const bad = Buffer.from(`${sb.root}/data\xff.txt`, 'latin1');
    await writeFile(bad, 'data');
    try {
      const plain = await sb.dstack(['run', 'code']);
      expect([plain.code, plain.stderr]).toEqual([
        2,
        "error: the project's code: a name is not UTF-8: data\\xff.txt (dstack stores UTF-8 names only); " +
          'rename it, or move it out of the project\n',
      ]);
      // In a git repo, untracked: git lists it (escaped unless -z), and it can be ignored.
      await mkdir(Buffer.from(`${sb.root}/sub\xfe`, 'latin1'));
      await writeFile(Buffer.from(`${sb.root}/sub\xfe/x`, 'latin1'), 'x');
      await execFileAsync('git', ['init', '-q', sb.root]);
      const git = await sb.dstack(['run', 'code']);
      expect([git.code, git.stderr]).toEqual([
        2,
        "error: the project's code: 2 names are not UTF-8: data\\xff.txt, sub\\xfe/x (dstack stores UTF-8 names only); " +
          'rename them, or have git ignore them (.gitignore)\n',
      ]);
      await writeFile(join(sb.root, '.gitignore'), 'data*.txt\nsub*/\n');
      expect((await sb.dstack(['run', 'code'])).code).toBe(0);
    } finally {
      await rm(join(sb.root, '.git'), { recursive: true, force: true });
    }
  });
});
