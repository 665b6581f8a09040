/**
 * Two users of one server run the same workflow: the one whose job the cache answers from the
 * other's is told "another user's job" in every text (run, logs, status, dry run), never the
 * other's run or job; and the other's run is answered as one that does not exist. The CLI
 * against the embedded server, a second user added to it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: shared
    commands: ['sleep 2', 'echo shared']
`;

describe("a job the cache answers from another user's", () => {
  let sb: Sandbox;
  let asBob: { env: Record<string, string> };
  const bob = (args: string[]) => sb.dstack(args, asBob);
  const viewAsBob = async (name: string) => JSON.parse((await bob(['status', name, '--json'])).stdout)[0] as RunView;

  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    const added = await sb.dstack(['users', 'add', 'bob']);
    const url = (JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { url: string }).url;
    asBob = { env: { DSTACK_SERVER: url, DSTACK_TOKEN: /dst_\S+/.exec(added.stdout)![0] } };
  }, 60_000);
  afterAll(async () => {
    await sb?.dispose();
  });

  it('names neither its run nor its job to the other user, in any text; its own user sees both', async () => {
    const alices = (await sb.dstack(['run', 'shared', '-d'])).stdout.trim();
    const source = (await sb.runView(alices)).jobs[0]!.id;

    const joined = await bob(['run', 'shared']);
    expect(joined.code).toBe(0);
    expect(joined.stderr).toContain("[dstack] shared: cached; the log of another user's job\n");
    expect(joined.stdout).toContain('shared');
    const bobs = joined.stderr.match(/^run (\S+):/m)![1]!;
    const status = (await bob(['status', bobs])).stdout;
    expect(status).toContain("DONE cached (another user's job)");
    const logs = await bob(['logs', bobs]);
    expect(logs.stderr).toBe("[dstack] shared: cached; the log of another user's job\n");

    const again = await bob(['run', 'shared']);
    expect(again.stderr).toContain("shared: cached, reusing another user's job\n");
    const plan = await bob(['run', 'shared', '--dry-run']);
    expect(plan.stdout).toMatch(/cache +reuses another user's job/);
    for (const text of [joined.stderr, status, logs.stderr, again.stderr, plan.stdout]) {
      expect(text).not.toContain(alices);
      expect(text).not.toContain(source);
    }
    expect((await viewAsBob(bobs)).jobs[0]).toMatchObject({ cachedFrom: source, cachedFromAnotherUser: true });

    // Alice's own: the job and its run, as before.
    expect((await sb.dstack(['run', 'shared'])).stderr).toContain(`shared: cached, reusing job ${source}\n`);
    expect((await sb.dstack(['run', 'shared', '--dry-run'])).stdout).toMatch(new RegExp(`cache +reuses job ${source}`));
  });

  it("answers another user's run as one that does not exist", async () => {
    const alices = (await sb.dstack(['status', '--last', '1'])).stdout.match(/\b([a-z]+-[a-z]+-\d+)\b/)![1]!;
    for (const name of [alices, 'no-such-run-1']) {
      const r = await bob(['status', name]);
      expect([r.code, r.stderr]).toEqual([1, `error: no run or job named '${name}' (see 'dstack status --last 10')\n`]);
    }
  });
});
