/**
 * Whose runs an admin's `dstack status` lists: a USER column once any listed run is another
 * user's, though they all are one user's (the admin's listing of a single other user's runs
 * had none). A user's own listing needs none. The embedded server, a second user added to it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe("an admin's dstack status of another user's runs", () => {
  let sb: Sandbox;
  let asBob: { env: Record<string, string> };
  const bob = (args: string[]) => sb.dstack(args, asBob);
  const header = (text: string) => text.split('\n')[0]!.split(/ +/);

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: hello\n    commands: [echo hello]\n' });
    const added = await sb.dstack(['users', 'add', 'bob']);
    const url = (JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { url: string }).url;
    asBob = { env: { DSTACK_SERVER: url, DSTACK_TOKEN: /dst_\S+/.exec(added.stdout)![0] } };
  }, 60_000);
  afterAll(() => sb?.dispose());

  it('names the user, listed or by name, and of tags, where the user is not theirs alone', async () => {
    const run = (await bob(['run', 'hello', '-d'])).stdout.trim();
    const listed = await sb.dstack(['status']);
    expect(header(listed.stdout)).toEqual([
      'RUN',
      'USER',
      'TAG',
      'JOB',
      'WORKFLOW',
      'VARIABLES',
      'SUBMITTED',
      'RUNNER',
      'STATUS',
    ]);
    expect(listed.stdout.split('\n')[1]).toMatch(new RegExp(`^${run} +bob `));
    expect(header((await sb.dstack(['status', run])).stdout)).toContain('USER');
    // Bob's own runs are his: no column.
    expect(header((await bob(['status'])).stdout)).not.toContain('USER');
    // Tags alike.
    await sb.ended(run);
    expect((await bob(['tags', 'add', 'best', run])).code).toBe(0);
    expect(header((await sb.dstack(['tags', 'list'])).stdout)).toEqual([
      'TAG',
      'RUN',
      'USER',
      'WORKFLOW',
      'JOBS',
      'SUBMITTED',
    ]);
    expect(header((await bob(['tags', 'list'])).stdout)).not.toContain('USER');
  });
});
