/**
 * A job that fills the disk holding DSTACK_HOME (a laptop's): the local server, whose own log
 * is on that disk, keeps running through it. Its jobs' lines wait, as a team server's do with
 * 507s, and arrive once space is back (the job's folder removed as it ends frees it here).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILLDISK_WORKFLOW, mountSmallDisk, type SmallDisk } from '../fixtures/small-disk.js';
import { Sandbox } from './harness.js';

const WORKFLOW = `workflows:
${FILLDISK_WORKFLOW}`;

interface Job {
  status: string;
  exitCode?: number;
  reason?: string;
}

describe('a job that fills the disk under the local server', () => {
  let disk: SmallDisk;
  let sb: Sandbox;
  beforeAll(async () => {
    disk = await mountSmallDisk(30);
    sb = await Sandbox.create({ under: disk.path });
    await sb.write({ '.dstack/workflows.yaml': WORKFLOW });
  });
  afterAll(async () => {
    await sb?.dispose();
    await disk?.unmount();
  });

  it("leaves the server running, and keeps the job's logs and exit code", { timeout: 180_000 }, async () => {
    const run = await sb.dstack(['run', 'filldisk'], { timeoutMs: 150_000 });
    expect(run.stderr).not.toMatch(/has stopped/);
    expect(run.code).toBe(1);
    const { pid } = JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { pid: number };

    const status = await sb.dstack(['status', '--json']);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const [view] = JSON.parse(status.stdout) as { name: string; jobs: Job[] }[];
    expect(view!.jobs[0]).toMatchObject({ status: 'FAILED', exitCode: 3 });

    // Every line, as the run printed them and as they are kept.
    const logs = await sb.dstack(['logs', view!.name]);
    expect(logs.code).toBe(0);
    for (const out of [run.stdout, logs.stdout]) {
      const lines = out.split('\n');
      expect(lines).toContain('DISK FULL');
      expect(lines.filter((l) => /^\d+$/.test(l))).toEqual(Array.from({ length: 3000 }, (_, i) => String(i + 1)));
    }

    // The same server throughout: it never crashed and was started again.
    const again = JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { pid: number };
    expect(again.pid).toBe(pid);
  });
});
