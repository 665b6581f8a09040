/**
 * Symlinks in the project's code: a link is code (a job sees it), so pointing it elsewhere
 * runs the job again; a link out of the project is not sent, and the run says so.
 */
import { mkdir, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: show
    commands: [cat current.yaml]
  - name: narrow
    inputs: [current.yaml]
    commands: [cat current.yaml]
`;

describe('links in the code', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      'configs/a.yaml': 'lr: 0.1\n',
      'configs/b.yaml': 'lr: 0.9\n',
    });
    await symlink('configs/a.yaml', join(sb.root, 'current.yaml'));
  });
  afterAll(() => sb.dispose());

  const point = async (target: string) => {
    await unlink(join(sb.root, 'current.yaml'));
    await symlink(target, join(sb.root, 'current.yaml'));
  };

  it('runs a job again once a link of its code points at another file', async () => {
    for (const workflow of ['show', 'narrow']) {
      expect((await sb.dstack(['run', workflow])).stdout).toBe('lr: 0.1\n');
      expect((await sb.dstack(['run', workflow])).stderr).toContain('cached, reusing job');
    }
    await point('configs/b.yaml');
    for (const workflow of ['show', 'narrow']) {
      const again = await sb.dstack(['run', workflow]);
      expect(again.stderr).not.toContain('cached');
      expect(again.stdout).toBe('lr: 0.9\n');
    }
    // With `inputs:` naming the link, an edit of the file it points at counts too.
    await sb.write({ 'configs/b.yaml': 'lr: 0.5\n' });
    expect((await sb.dstack(['run', 'narrow'])).stdout).toBe('lr: 0.5\n');
  });

  it('says which link points out of the project, and the job does not get it', async () => {
    const outside = join(dirname(sb.root), 'datasets');
    await mkdir(outside);
    await symlink(outside, join(sb.root, 'datasets'));
    const warning = `warning: link 'datasets' (-> ${outside}) points outside the project, so jobs do not get it; name that path in the commands instead`;
    expect((await sb.dstack(['run', 'show', '--dry-run'])).stderr).toContain(warning);
    const run = await sb.dstack(['run', 'show', '--no-cache']);
    expect(run.stderr).toContain(warning);
    expect(run.code).toBe(0);
  });
});
