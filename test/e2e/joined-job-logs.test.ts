/**
 * A run whose job joins an identical job already running (the same cache key) follows it:
 * once it is DONE, the joined job's log is its log; when it fails, the job runs itself, and its
 * follower shows that run's lines, not the failed one's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, waitUntil } from './harness.js';

const WORKFLOWS = `workflows:
  - name: job
    commands:
      - echo "start of $DSTACK_RUN_NAME"
      - sleep 2
      - echo "end of $DSTACK_RUN_NAME"
      - exit $code
`;

describe('the log of a job that joined a running one', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  job:\n    code: 0\n',
    });
  });
  afterAll(() => sb.dispose());

  /** Start a run, then an identical one once the first is running; follow the second with `logs -f`. */
  const joinAndFollow = async (code: string) => {
    const first = (await sb.dstack(['run', 'job', '--code', code, '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', first])).stdout.includes('start of'));
    const second = (await sb.dstack(['run', 'job', '--code', code, '-d'])).stdout.trim();
    const job = (await sb.runView(second)).jobs[0]!;
    expect(job.cachedFrom).toBe((await sb.runView(first)).jobs[0]!.id);
    return { first, second, follow: await sb.dstack(['logs', '-f', second]) };
  };

  it('fails, and the joining job runs itself: its follower shows its own lines', async () => {
    const { first, second, follow } = await joinAndFollow('1');
    expect(follow.stdout).toBe(`start of ${second}\nend of ${second}\n`);
    expect(follow.stdout).not.toContain(first);
    expect(follow.code).toBe(1);
    expect((await sb.dstack(['logs', second])).stdout).toBe(follow.stdout);
  });

  it('ends DONE, and the joining job is cached: its follower shows the joined job’s lines', async () => {
    const { first, second, follow } = await joinAndFollow('0');
    expect(follow.stdout).toBe(`start of ${first}\nend of ${first}\n`);
    expect(follow.code).toBe(0);
    expect((await sb.runView(second)).jobs[0]!.status).toBe('DONE');
    expect((await sb.dstack(['logs', second])).stdout).toBe(follow.stdout);
  });
});
