/** Ctrl-C before `dstack run` has submitted its run: the command says that nothing runs. */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox } from './harness.js';

describe('dstack run interrupted before its run is submitted', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: a\n    commands: [echo a]\n' });
    expect((await sb.dstack(['run', 'a'])).code).toBe(0); // the local server is up: the next run starts at once
    // A big file of the project's (sparse: no disk) whose hash takes the CLI seconds.
    const big = await open(join(sb.root, 'weights.bin'), 'w');
    await big.truncate(16 * 2 ** 30);
    await big.close();
  });
  afterAll(() => sb.dispose());

  it('says that nothing runs, exits 130, and leaves no run behind', async () => {
    const child = sb.spawn(['run', 'a']);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 3000)); // while it hashes the snapshot (seconds more)
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toBe('\ninterrupted before the run was submitted: nothing runs\n');
    expect(await sb.json<RunView[]>(['status', '--last', '5'])).toHaveLength(1);
  });
});
