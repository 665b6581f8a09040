/**
 * A job that ends on a full disk says in its reason what was being done and which folder's
 * disk filled, not `runner error: ENOSPC: no space left on device, write`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/api.js';
import { mountSmallDisk, type SmallDisk } from '../fixtures/small-disk.js';
import { Sandbox, waitUntil } from './harness.js';

const WORKFLOWS = `workflows:
  - name: big
    commands: ["head -c 20000000 /dev/urandom > out.bin"]
    artifacts: [out.bin]
  - name: medium
    commands: ["head -c 8000000 /dev/urandom > data.bin"]
    artifacts: [data.bin]
  - name: uses-medium
    depends-on: [medium]
    commands: ["ls -l data.bin"]
`;

describe('the reason of a job that ends on a full disk', () => {
  let disk: SmallDisk;
  let sb: Sandbox;
  beforeAll(async () => {
    disk = await mountSmallDisk(30);
    sb = await Sandbox.create({ under: disk.path });
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
  });
  afterAll(async () => {
    await sb?.dispose();
    await disk?.unmount();
  });

  const lastJob = async (ref: string) => {
    const runs = await sb.json<RunView[]>(['status', '--last', '1']);
    return runs[0]!.jobs.find((j) => j.ref === ref)!;
  };

  it('names the blob folder when saving artifacts fills the disk', async () => {
    // 20 MB in the workspace and 20 MB more in the local server's blob folder: 30 MiB hold one.
    const run = await sb.dstack(['run', 'big']);
    expect(run.code).toBe(1);
    const job = await lastJob('big');
    expect(job.status).toBe('FAILED');
    expect(job.reason).toBe(
      `the disk holding ${join(sb.home, 'server', 'artifacts')} is full (no space left on device) while saving ` +
        'artifacts: free space on it',
    );
  });

  it("names the workspace and the dependency when downloading a dependency's artifacts fills the disk", async () => {
    const first = await sb.dstack(['run', 'medium']);
    expect(first.code, first.stderr).toBe(0);
    // The jobs' folders go to the runner's trash, emptied a moment later: filled before, the disk would gain their room after.
    const trash = join(sb.home, 'runner', 'trash');
    await waitUntil(async () => (await readdir(trash).catch(() => [])).length === 0, 30_000);
    await disk.fill(4 << 20); // room for the server's own writes, not for the 8 MB download
    const run = await sb.dstack(['run', 'uses-medium']);
    await disk.free();
    expect(run.code).toBe(1);
    const job = await lastJob('uses-medium');
    const medium = await lastJob('medium'); // this run's, reusing the first one's
    expect(job.status).toBe('FAILED');
    const workspace = join(sb.home, 'runner', 'jobs', job.id, 'workspace');
    expect(job.reason).toBe(
      `the disk holding ${workspace} is full (no space left on device) while downloading 8.0MB of artifacts of ` +
        `medium (${medium.id}): free space on it`,
    );
  });
});
