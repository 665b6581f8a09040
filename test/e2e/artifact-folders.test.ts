/**
 * Empty folders of artifacts come back wherever artifacts do: in a dependent job's workspace,
 * in a resumed job's, and with `dstack artifacts -o`; `dstack artifacts` lists them. An artifact
 * never made is not one: the dependent job's log says so before its commands run.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, waitUntil } from './harness.js';

const WORKFLOWS = `workflows:
  - name: mkbin
    commands:
      - mkdir -p tools/logs tools/empty && chmod 750 tools/logs
      - echo x > tools/bin.txt
    artifacts: [tools]
  - name: usebin
    depends-on: [mkbin]
    commands:
      - echo log > tools/logs/a.txt
      - ls -d tools/empty
  - name: mkempty
    commands: [mkdir -p out]
    artifacts: [out]
  - name: mknone
    commands: [mkdir -p out]
    artifacts: [out, model]
  - name: usenone
    depends-on: [mknone]
    commands: [ls model]
  - name: train
    commands:
      - |
        if [ -e state/started ]; then echo "resumed with:" $(ls -A state); echo ok > state/logs/resumed.txt; exit 0; fi
        mkdir -p state/logs state/tmp
        touch state/started
        trap 'exit 0' TERM
        echo ready
        while true; do sleep 0.1 || true; done
    artifacts: [state]
`;

describe('empty folders in artifacts', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  });
  afterAll(() => sb.dispose());

  const jobIdOf = (stderr: string, workflow: string) =>
    new RegExp(`${workflow} \\(([0-9a-f]{12})\\)`).exec(stderr)![1]!;
  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

  it("of an artifact never made are none: both jobs' logs say so, the dependent's before its commands", async () => {
    const run = await sb.dstack(['run', 'usenone']);
    expect(run.code).toBe(1);
    const id = jobIdOf(run.stderr, 'mknone');
    expect(run.stderr).toContain(
      "mknone  | [dstack] artifact 'model' does not exist in the workspace; nothing saved for it\n",
    );
    const said = `usenone | [dstack] mknone (${id}) saved nothing for its artifact 'model': it did not exist when that job ended\n`;
    expect(run.stderr).toContain(said);
    expect(run.stderr.indexOf(said)).toBeLessThan(run.stderr.indexOf("usenone | ls: cannot access 'model'"));

    // `artifacts` said nothing of it: a table without its row, 0 files downloaded.
    const note = `job ${id} saved nothing for its artifact 'model': it did not exist when the job ended\n`;
    const list = await sb.dstack(['artifacts', id]);
    expect([list.stdout, list.stderr]).toEqual(['ARTIFACT  FILE  SIZE\nout       out/\n', note]);
    const total = await sb.dstack(['artifacts', '-t', id]);
    expect([total.stdout, total.stderr]).toEqual([
      'ARTIFACT  FILES  SIZE\nout       0      0B\nmodel     0      0B\n',
      note,
    ]);
    const out = join(sb.root, '..', 'mknone-artifacts');
    const download = await sb.dstack(['artifacts', id, '-o', out]);
    expect([download.stdout, download.stderr]).toEqual([
      `downloaded 0 files (0B) and 1 empty folder to ${out}\n`,
      note,
    ]);
  });

  it("are in a dependent job's workspace, listed, and downloaded with -o", async () => {
    const run = await sb.dstack(['run', 'usebin']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('usebin | tools/empty\n');
    const id = jobIdOf(run.stderr, 'mkbin');
    expect(run.stderr).toContain('mkbin  | [dstack] saved artifacts: 1 file, 2B, 2 empty folders (1 file, 2B new)\n');
    expect(run.stderr).toContain(`usebin | [dstack] artifacts of mkbin (${id}): 1 file, 2B, 2 empty folders\n`);

    expect((await sb.dstack(['artifacts', id])).stdout).toBe(
      [
        'ARTIFACT  FILE           SIZE',
        'tools     tools/bin.txt  2B',
        'tools     tools/empty/',
        'tools     tools/logs/',
        '',
      ].join('\n'),
    );
    expect((await sb.dstack(['artifacts', '-t', id])).stdout).toBe(
      ['ARTIFACT  FILES  SIZE', 'tools     1      2B', ''].join('\n'),
    );

    const out = join(sb.root, '..', 'mkbin-artifacts');
    const download = await sb.dstack(['artifacts', id, '-o', out]);
    expect(download.stdout).toBe(
      `downloaded 1 file (2B) and 2 empty folders to ${out} (1 copied from the local server's store)\n`,
    );
    expect(await readdir(join(out, 'tools'))).toEqual(['bin.txt', 'empty', 'logs']);
    expect(await readdir(join(out, 'tools/logs'))).toEqual([]);
    expect(await modeOf(join(out, 'tools/logs'))).toBe(0o750);
    // Later dstack's words: `artifacts list JOB`, `artifacts download JOB -o DIR`.
    const listed = await sb.dstack(['artifacts', 'list', id]);
    expect([listed.code, listed.stdout]).toEqual([0, (await sb.dstack(['artifacts', id])).stdout]);
    const again = join(sb.root, '..', 'mkbin-download');
    expect((await sb.dstack(['artifacts', 'download', id, '-o', again])).stdout).toBe(
      `downloaded 1 file (2B) and 2 empty folders to ${again} (1 copied from the local server's store)\n`,
    );
    const usage = "dstack artifacts JOB lists a job's files, and dstack artifacts JOB -o DIR downloads them";
    for (const [args, said] of [
      [['download', id], `dstack artifacts download needs the folder to download into: dstack artifacts ${id} -o DIR`],
      [['list'], `dstack artifacts list takes one job: ${usage}`],
      [[id, id], `dstack artifacts takes one job, not '${id} ${id}': ${usage}`],
    ] as const) {
      const r = await sb.dstack(['artifacts', ...args]);
      expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `error: ${said}\n`]);
    }
    // A second download finds the folders there, and replaces none of them.
    expect((await sb.dstack(['artifacts', id, '-o', out])).stdout).toContain(
      `replaced 1 file that ${out} had (tools/bin.txt)\n`,
    );
  });

  it('keep an artifact folder that is entirely empty', async () => {
    const run = await sb.dstack(['run', 'mkempty']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('[dstack] saved artifacts: 0 files, 0B, 1 empty folder (0 files, 0B new)\n');
    const id = jobIdOf(run.stderr, 'mkempty');
    expect((await sb.dstack(['artifacts', id])).stdout).toBe('ARTIFACT  FILE  SIZE\nout       out/\n');
    const out = join(sb.root, '..', 'mkempty-artifacts');
    expect((await sb.dstack(['artifacts', id, '-o', out])).stdout).toBe(
      `downloaded 0 files (0B) and 1 empty folder to ${out}\n`,
    );
    expect(await readdir(join(out, 'out'))).toEqual([]);
  });

  it("are in a resumed job's workspace", async () => {
    const name = (await sb.dstack(['run', 'train', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
    await sb.dstack(['stop', name]);
    const job = async () => (await sb.runView(name)).jobs[0]!;
    const stopped = await waitUntil(async () => {
      const j = await job();
      return j.status === 'STOPPED' && j;
    });
    expect((await sb.dstack(['artifacts', stopped.id])).stdout).toBe(
      [
        'ARTIFACT  FILE           SIZE',
        'state     state/logs/',
        'state     state/started  0B',
        'state     state/tmp/',
        '',
      ].join('\n'),
    );
    expect((await sb.dstack(['resume', stopped.id])).code).toBe(0);
    const done = await waitUntil(async () => {
      const j = await job();
      return ['DONE', 'FAILED'].includes(j.status) && j;
    });
    const logs = await sb.dstack(['logs', name]);
    expect(done.status, logs.stdout + logs.stderr).toBe('DONE');
    expect(logs.stdout).toContain('resumed with: logs started tmp\n');
    expect(logs.stderr).toContain("[dstack] restored this job's saved artifacts: 1 file, 0B, 2 empty folders\n");
    const out = join(sb.root, '..', 'train-artifacts');
    await sb.dstack(['artifacts', stopped.id, '-o', out]);
    expect(await readFile(join(out, 'state/logs/resumed.txt'), 'utf8')).toBe('ok\n');
  });
});
