/**
 * Folders a user names that no mkdir can make: under /proc, Node 20's recursive mkdir spins
 * forever; each is refused at once, naming the setting. Every call has a timeout, so a hang
 * fails the test rather than hanging it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox } from './harness.js';

const timeoutMs = 15_000;
const refused = (message: string) => ({ code: 2, stdout: '', stderr: `error: ${message}\n` });

describe('folders that cannot be made', () => {
  let sb: Sandbox;
  let spare: string;
  beforeAll(async () => {
    sb = await Sandbox.create();
    spare = await mkdtemp(join(tmpdir(), 'dstack-no-folder-'));
    await sb.write({
      '.dstack/workflows.yaml':
        'workflows:\n  - name: make\n    provider: bash\n    commands: [mkdir -p out, echo x > out/x]\n    artifacts: [out]\n',
    });
  });
  afterAll(async () => {
    await sb.dispose();
    await rm(spare, { recursive: true, force: true });
  });

  it('refuses a DSTACK_HOME under /proc at once, for status and run', async () => {
    const home = (value: string, folder: string) =>
      refused(
        `invalid DSTACK_HOME '${value}': cannot make the folder ${folder}: no such file or directory; ` +
          'set DSTACK_HOME to a folder you can write',
      );
    for (const args of [['status'], ['run', 'make']]) {
      const env = { DSTACK_HOME: '/proc/nope' };
      expect(await sb.dstack(args, { env, timeoutMs }), args.join(' ')).toEqual(home('/proc/nope', '/proc/nope'));
    }
    expect(await sb.dstack(['status'], { env: { DSTACK_HOME: '/proc' }, timeoutMs })).toEqual(
      home('/proc', '/proc/server'),
    );
  });

  it("refuses a server's --data-dir and --storage, and a runner's --work-dir, under /proc", async () => {
    expect(await sb.dstack(['server', '--port', '0', '--data-dir', '/proc/nope'], { timeoutMs })).toEqual(
      refused(
        "invalid --data-dir '/proc/nope': cannot make the folder /proc/nope: no such file or directory; " +
          'set --data-dir to a folder you can write',
      ),
    );
    const storage = ['server', '--port', '0', '--data-dir', join(spare, 'data'), '--storage', '/proc/nope/blobs'];
    expect(await sb.dstack(storage, { timeoutMs })).toEqual(
      refused(
        "invalid --storage '/proc/nope/blobs': cannot make the folder /proc/nope: no such file or directory; " +
          'give a folder or s3://BUCKET/PREFIX',
      ),
    );
    const exec = ['runner', 'exec', '--job', '0123456789ab', '--server', 'http://127.0.0.1:9', '--token', 't'];
    expect(await sb.dstack([...exec, '--work-dir', '/proc/nope'], { timeoutMs })).toEqual(
      refused(
        "invalid --work-dir '/proc/nope': cannot make the folder /proc/nope: no such file or directory; " +
          'set --work-dir to a folder you can write',
      ),
    );
  });

  it('refuses artifacts --output under /proc', async () => {
    expect((await sb.dstack(['run', 'make'], { timeoutMs: 60_000 })).code).toBe(0);
    const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
    const id = run!.jobs[0]!.id;
    expect(await sb.dstack(['artifacts', id, '-o', '/proc/nope/out'], { timeoutMs })).toEqual(
      refused(
        "invalid --output '/proc/nope/out': cannot make the folder /proc/nope: no such file or directory; " +
          'give a folder (it is made when missing)',
      ),
    );
  });
});
