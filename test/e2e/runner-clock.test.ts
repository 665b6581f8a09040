/**
 * A runner whose clock is off (two hours behind, or ahead): its jobs' log lines are filed at the
 * server's time, so `dstack logs --since 5m` shows a job that ran a moment ago, and a run's
 * lines are not hours away from each other's.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../services/server.js';
import { waitUntil } from './harness.js';
import { RemoteProject } from './remote.js';
import { RunnerProcesses } from './runner-processes.js';

// Preloaded (node --require) into a runner process: its clock SKEW_MS away from this machine's.
const SKEWED_CLOCK = `const skew = Number(process.env.SKEW_MS);
const RealDate = Date;
const realNow = RealDate.now;
globalThis.Date = class extends RealDate {
  constructor(...args) { if (args.length === 0) super(realNow() + skew); else super(...args); }
  static now() { return realNow() + skew; }
};
`;
const HOURS_2 = 2 * 3600_000;

describe('a runner whose clock is off', () => {
  let t: TestServer;
  let project: RemoteProject;
  let work: string;
  const runners: RunnerProcesses[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dstack-runner-clock-'));
    t = await startTestServer();
    await writeFile(join(work, 'skewed-clock.cjs'), SKEWED_CLOCK);
    project = await RemoteProject.create({ url: t.server.url, token: t.token });
    await project.write({
      '.dstack/workflows.yaml': `workflows:
  - name: say
    commands:
      - echo "said $n"
`,
      '.dstack/variables.yaml': 'variables:\n  say:\n    n: 0\n',
    });
  }, 120_000);
  afterEach(() => {
    for (const r of runners.splice(0)) r.killAll();
  });
  afterAll(async () => {
    await t?.stop();
    await project?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  for (const [how, skew] of [
    ['two hours behind', -HOURS_2],
    ['two hours ahead', HOURS_2],
  ] as const) {
    it(`files its jobs' lines at the server's time when it is ${how}`, async () => {
      const name = skew < 0 ? 'behind' : 'ahead';
      const env = { NODE_OPTIONS: `--require ${join(work, 'skewed-clock.cjs')}`, SKEW_MS: String(skew) };
      const processes = new RunnerProcesses(t, { home: join(work, `home-${name}`), cpu: 1, env });
      runners.push(processes);
      const runner = await processes.start(name, join(work, name));
      // The runner's own log shows its clock: the skew is real.
      const logged = Date.parse(/^(\S+) INFO/m.exec(runner.stderr())![1]!);
      expect(Math.abs(logged - (Date.now() + skew))).toBeLessThan(60_000);

      const before = Date.now();
      const submitted = await project.dstack(['run', 'say', '--n', name, '-d']);
      expect(submitted.code, submitted.stderr).toBe(0);
      const run = submitted.stdout.trim();
      const [job] = await t.server.engine.store.jobsOfRuns([run]);
      await waitUntil(async () => (await t.server.engine.store.getJob(job!.id))?.status === 'DONE', 60_000);

      const recent = await project.dstack(['logs', run, '--since', '5m']);
      expect(recent.code, recent.stderr).toBe(0);
      expect(recent.stdout).toBe(`said ${name}\n`);
      const res = await fetch(`${t.server.url}/api/logs?target=${job!.id}`, {
        headers: { authorization: `Bearer ${t.token}` },
      });
      const { entries } = (await res.json()) as { entries: { ts: number; text: string }[] };
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) {
        expect(e.ts, e.text).toBeGreaterThanOrEqual(before - 1000);
        expect(e.ts, e.text).toBeLessThanOrEqual(Date.now() + 1000);
      }
    }, 120_000);
  }
});
