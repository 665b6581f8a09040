/**
 * A local server no CLI can find again (its home deleted, as `rm -rf ~/.dstack` to start
 * afresh does) shuts down instead of running on forever with its runner.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/client/process-alive.js';
import { Sandbox, waitUntil } from './harness.js';

describe('an orphaned local server', () => {
  let sb: Sandbox;
  afterAll(() => sb?.dispose());

  it('shuts down once its home is deleted', { timeout: 60_000 }, async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: hi\n    commands: [echo hi]\n' });
    expect((await sb.dstack(['run', 'hi'])).code).toBe(0);
    const { pid } = JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { pid: number };
    await rm(sb.home, { recursive: true, force: true });
    // It checks every 10 s, then stops as on SIGTERM.
    await waitUntil(async () => !isAlive(pid), 30_000);
  });
});
