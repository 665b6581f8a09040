import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordPid, removeWorkspace, spoolPath, workspacePath } from '../../src/runner/workspace.js';

describe('removeWorkspace', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dstack-workspace-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("removes a trivial job's folder: pid, spool and an empty workspace", async () => {
    await mkdir(workspacePath(root, 'j1'), { recursive: true });
    await recordPid(root, 'j1', 123);
    await writeFile(spoolPath(root, 'j1'), '');
    await removeWorkspace(root, 'j1');
    expect(existsSync(join(root, 'jobs', 'j1'))).toBe(false);
  });

  it('removes what else the job left: files in the workspace, other files beside it, no spool', async () => {
    await mkdir(join(workspacePath(root, 'j2'), 'out', 'deep'), { recursive: true });
    await writeFile(join(workspacePath(root, 'j2'), 'out', 'deep', 'f'), 'x');
    await mkdir(join(root, 'jobs', 'j2', 'container'), { recursive: true });
    await writeFile(join(root, 'jobs', 'j2', 'j2.sh'), 'true');
    await removeWorkspace(root, 'j2');
    expect(existsSync(join(root, 'jobs', 'j2'))).toBe(false);
  });

  it('does nothing for a job that has no folder', async () => {
    await expect(removeWorkspace(root, 'none')).resolves.toBeUndefined();
  });
});
