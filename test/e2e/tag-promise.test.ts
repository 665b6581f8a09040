/**
 * A tag promised to a detached run (`dstack run -d --tag pend`) shows where tags show, and
 * `dstack tags delete` lets it go, through the real CLI and its embedded server and runner.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, waitUntil } from './harness.js';

describe('a tag promised to an unfinished run', () => {
  let sb: Sandbox;
  let go: string;
  beforeAll(async () => {
    sb = await Sandbox.create();
    go = join(sb.root, '..', 'go');
    await sb.write({
      '.dstack/workflows.yaml': `workflows:
  - name: waits
    commands:
      - while [ ! -f ${go} ]; do sleep 0.1; done
  - name: quick
    commands: [echo quick]
`,
    });
  });
  afterAll(() => sb.dispose());

  const view = async (name: string) => await sb.runView(name);

  it('shows in status and tags list, and tags delete lets the run end untagged', async () => {
    const pending = (await sb.dstack(['run', 'waits', '-d', '--tag', 'pend', '--no-cache'])).stdout.trim();
    const status = await sb.dstack(['status', pending]);
    expect(status.stdout).toMatch(new RegExp(`^${pending}\\s+pend \\(when DONE\\)\\s+waits\\s`, 'm'));

    expect((await sb.dstack(['run', 'quick'])).code).toBe(0);
    const quick = (await sb.lastRun()).name;
    expect((await sb.dstack(['tags', 'add', 'kept', quick])).code).toBe(0);
    const list = await sb.dstack(['tags', 'list']);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toMatch(/^TAG\s+RUN\s+WORKFLOW\s+JOBS\s+SUBMITTED$/);
    expect(lines.slice(1, 3).map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['kept', quick, 'quick'],
      ['pend (when DONE)', pending, 'waits'],
    ]);
    expect(lines[3]).toBe(
      "(when DONE): promised to an unfinished run submitted with --tag, which gets it once DONE; 'dstack tags delete TAG' lets it end untagged",
    );

    const added = await sb.dstack(['tags', 'add', 'pend', quick]);
    expect(added).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `error: tag 'pend' is promised to run ${pending} in project ${sb.root}, which has not finished ` +
        '(dstack run --tag pend): choose another tag, wait for that run, or let that run end untagged: ' +
        `dstack tags delete pend --project ${sb.root}\n`,
    });

    expect(await sb.dstack(['tags', 'delete', 'pend'])).toEqual({
      code: 0,
      stdout:
        `deleted tag pend, promised to run ${pending} in project ${sb.root} (dstack run --tag pend): ` +
        'that run will end untagged\n',
      stderr: '',
    });
    expect((await sb.dstack(['status', pending])).stdout).toMatch(new RegExp(`^${pending}\\s+<none>\\s+waits\\s`, 'm'));
    // A run has one tag: quick's 'kept' goes first (tags add refuses to move it in passing).
    expect((await sb.dstack(['tags', 'delete', 'kept'])).code).toBe(0);
    expect((await sb.dstack(['tags', 'add', 'pend', quick])).code).toBe(0);

    await writeFile(go, '');
    const ended = await waitUntil(async () => {
      const v = await view(pending);
      return v.status === 'DONE' && v;
    });
    expect(ended.tag).toBeUndefined();
    expect((await view(quick)).tag).toBe('pend');
  });
});
