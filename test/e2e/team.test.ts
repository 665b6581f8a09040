/**
 * A team server with three runner processes on loopback: scheduling by resources, waiting
 * reasons, lost runners, a server restart mid-run, a cut connection, and auth on every route.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, RunView } from '../../src/core/records.js';
import { jobProcesses } from '../services/processes.js';
import { checkpointingWorkflow } from './checkpointing.js';
import { Sandbox, waitUntil } from './harness.js';
import { CuttableProxy, TeamRunner, TeamServer } from './team-harness.js';

const WORKFLOWS = `workflows:
  - name: all
    depends-on: [p1, p2, p3, p4, p5, p6]
    commands: [echo all]
${[1, 2, 3, 4, 5, 6].map((i) => `  - name: p${i}\n    commands: [sleep 1]\n`).join('')}
  - name: wide
    resources: { cpu: 2 }
    commands: [echo wide]
  - name: gpu
    resources: { gpu: 1 }
    commands: ['echo "gpus=$CUDA_VISIBLE_DEVICES"']
  - name: two-gpus
    resources: { gpu: 2 }
    commands: [echo never]
  - name: long
    commands: ['echo started', 'sleep 30']
  - name: ticker
    commands: ['for i in $(seq 1 20); do echo "tick $i"; sleep 0.2; done']
  - name: chatty
    commands:
      - 'for i in $(seq 1 300); do echo "line $i"; sleep 0.005; done'
      - 'mkdir -p out && for i in $(seq 1 40); do echo "file $i" > out/$i.txt; done'
      - head -c 3000000 /dev/urandom > out/big.bin && sha256sum out/big.bin | cut -c1-64 > big.sum
    artifacts: [out, big.sum]
${checkpointingWorkflow('saver', 'resources: { gpu: 1 }')}  - name: chatty-reader
    depends-on: [chatty]
    commands: ['cat out/7.txt', 'sha256sum out/big.bin | cut -c1-64 | diff - big.sum && echo same']
  - name: tagged-data
    commands: [mkdir -p data, echo data > data/x]
    artifacts: [data]
  - name: use-tagged
    depends-on: [tagged-data:data-v1]
    commands: [cat data/x]
`;

describe('a team server with three runners', () => {
  let server: TeamServer;
  let runners: TeamRunner[];
  let sb: Sandbox;
  const as = (token: string) => ({ env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: token } });
  const dstack = (args: string[]) => sb.dstack(args, as(server.token));
  const view = async (name: string) => JSON.parse((await dstack(['status', name, '--json'])).stdout)[0] as RunView;
  const job = async (name: string, workflow: string) => (await view(name)).jobs.find((j) => j.workflow === workflow)!;

  beforeAll(async () => {
    server = await TeamServer.start(['--runner-timeout', '2']);
    runners = await Promise.all([
      TeamRunner.start(server, 'r1', ['--cpu', '1', '--memory', '2GB', '--gpus', '0']),
      TeamRunner.start(server, 'r2', ['--cpu', '2', '--memory', '2GB', '--gpus', '0']),
      TeamRunner.start(server, 'r3', ['--cpu', '1', '--memory', '2GB', '--gpus', '1']),
    ]);
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    await waitUntil(async () => (await server.client().runners()).filter((r) => r.status === 'ACTIVE').length === 3);
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.kill()));
    await server.kill('SIGTERM');
  });

  it('lists the runners with their resources', async () => {
    // Started with --token: once running, its command line (world-readable in ps) no longer holds it.
    const cmdline = await readFile(`/proc/${runners[0]!.proc.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('runner start --server');
    expect(cmdline).not.toContain('dst_');
    const r = await dstack(['runners']);
    expect(r.stdout).toMatch(
      /^NAME\s+HOST\s+CPU\s+MEMORY\s+GPU\s+DOCKER\s+PYTHON\s+HOST JOBS\s+STATUS\s+JOBS\s+UPDATED$/m,
    );
    // What each can run besides host commands, as it told: a Docker engine, its Pythons.
    expect(r.stdout).toMatch(/^r2\s+\S+\s+2\/2\s+2\.0GB\/2\.0GB\s+-\s+(yes|no)\s+(\S+ ?)+\s+yes\s+ACTIVE\s+0\s+/m);
    expect(r.stdout).toMatch(/^r3\s+\S+\s+1\/1\s+\S+\s+1\/1 GPU\s+(yes|no)\s+(\S+ ?)+\s+yes\s+ACTIVE/m);
  });

  it('spreads jobs across runners by their free resources, several at once on one runner', async () => {
    expect((await dstack(['run', 'all'])).code).toBe(0);
    const jobs = (await view((JSON.parse((await dstack(['status', '--json'])).stdout) as RunView[])[0]!.name)).jobs;
    const parallel = jobs.filter((j) => j.workflow.startsWith('p'));
    expect(new Set(parallel.map((j) => j.runner))).toEqual(new Set(['r1', 'r2', 'r3']));
    const onR2 = parallel.filter((j) => j.runner === 'r2');
    const overlap = onR2.some((a) =>
      onR2.some((b) => a !== b && a.startedAt! < b.finishedAt! && b.startedAt! < a.finishedAt!),
    );
    expect(overlap).toBe(true);
  });

  it('puts a job on the one runner it fits, and gives it the GPUs it was assigned', async () => {
    await dstack(['run', 'wide']);
    expect((await job((await lastRun()).name, 'wide')).runner).toBe('r2');
    const r = await dstack(['run', 'gpu']);
    expect(r.stdout).toBe('gpus=0\n');
    expect((await job((await lastRun()).name, 'gpu')).runner).toBe('r3');
  });

  it('keeps a job no runner could ever fit waiting, with the reason', async () => {
    const name = (await dstack(['run', 'two-gpus', '-d'])).stdout.trim();
    const waiting = await waitUntil(async () => {
      const j = await job(name, 'two-gpus');
      return j.reason === 'no runner has 2 GPUs' && j;
    });
    expect(waiting.status).toBe('SUBMITTED');
    expect((await dstack(['status', name])).stdout).toContain('SUBMITTED no runner has 2 GPUs');
    await dstack(['stop', name]);
  });

  it("refuses a second runner start with a busy runner's token: it waits, and the first runner's job ends DONE", async () => {
    const name = (await dstack(['run', 'ticker', '-d', '--no-cache'])).stdout.trim();
    const running = await waitUntil(async () => {
      const j = await job(name, 'ticker');
      return j.status === 'RUNNING' && j;
    });
    const busy = runners.find((r) => r.name === running.runner)!;
    const listed = async () => (await server.client().runners()).find((r) => r.name === busy.name)!;
    const before = await listed();
    const twin = await busy.twin(['--cpu', '4', '--gpus', '2']);
    try {
      const said = await waitUntil(async () => /^.*already running.*$/m.exec(twin.output)?.[0]);
      expect(said).toMatch(
        new RegExp(
          `runner ${busy.name} is already running on ${hostname()} \\(last heard \\d+ s ago\\): ` +
            'stop that process first, or add a runner for this machine with: dstack runners add NAME; ' +
            'retrying until it stops heartbeating$',
        ),
      );
      await waitUntil(async () => (await view(name)).status === 'DONE', 30_000);
      // Still waiting, said once; the first runner is listed ACTIVE with its own resources, its host.
      expect(twin.proc.exitCode).toBeNull();
      expect(twin.output.match(/already running/g)).toHaveLength(1);
      expect(busy.proc.exitCode).toBeNull();
      expect(await listed()).toMatchObject({ status: 'ACTIVE', host: before.host, total: before.total });
      expect((await dstack(['runners'])).stdout).toMatch(new RegExp(`^${busy.name} .* ACTIVE +0 `, 'm'));
    } finally {
      await twin.kill('SIGTERM');
    }
    // Stopped while it waited, the twin told the server nothing: the runner stays ACTIVE past the timeout.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await listed()).status).toBe('ACTIVE');
  });

  it('fails the job of a runner killed mid-job as "runner lost"; the returning runner stops it rather than run it again', async () => {
    const name = (await dstack(['run', 'long', '-d'])).stdout.trim();
    const running = await waitUntil(async () => {
      const j = await job(name, 'long');
      return j.status === 'RUNNING' && j;
    });
    await waitUntil(async () => jobProcesses(running.id).length > 0); // found as they are ended below
    const victim = runners.find((r) => r.name === running.runner)!;
    await victim.kill('SIGKILL');
    // Its job's shell and sleep end with it (its spawner helper stops them), not at its restart.
    await waitUntil(async () => jobProcesses(running.id).length === 0, 5000);
    const lost = await waitUntil(async () => {
      const j = await job(name, 'long');
      return j.status === 'FAILED' && j;
    }, 15_000);
    expect(lost.reason).toBe('runner lost');
    victim.boot();
    // Back with the job's workspace, it takes the job back and stops it (runner-lost-taken-back.test.ts).
    const stopped = await waitUntil(async () => {
      const j = await job(name, 'long');
      return j.status === 'STOPPED' && j;
    }, 15_000);
    expect(stopped.reason).toBe(`stopped: its runner was lost and came back (dstack resume ${name} runs it again)`);
    expect(jobProcesses(running.id)).toEqual([]);
  });

  it('says, after a followed job ended "runner lost", that its runner may still send lines', async () => {
    const attached = dstack(['run', 'long', '--no-cache']); // followed to the end
    const running = await waitUntil(async () => {
      const runs = JSON.parse((await dstack(['status', '--last', '1', '--json'])).stdout) as RunView[];
      const j = runs[0]?.jobs.find((j) => j.workflow === 'long');
      return j?.status === 'RUNNING' && j;
    });
    const victim = runners.find((r) => r.name === running.runner)!;
    await victim.kill('SIGKILL');
    const note = `[dstack] its runner may still send log lines it had not delivered: see dstack logs ${running.id}\n`;
    const run = await attached;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FAILED +runner lost/);
    expect(run.stderr.endsWith(note)).toBe(true);
    const followed = await dstack(['logs', '-f', running.id]);
    expect(followed.stderr).toBe(`[dstack] long (${running.id}) ended FAILED: runner lost\n${note}`);
    victim.boot();
    await waitUntil(
      async () => (await server.client().runners()).find((r) => r.name === victim.name)?.status === 'ACTIVE',
    );
  });

  it("ends the processes of a paused runner's lost job once it comes back", async () => {
    const name = (await dstack(['run', 'long', '-d', '--no-cache'])).stdout.trim();
    const running = await waitUntil(async () => {
      const j = await job(name, 'long');
      return j.status === 'RUNNING' && j;
    });
    // RUNNING is reported as the runner starts the job's shell, so the shell may be a moment behind it.
    await waitUntil(async () => jobProcesses(running.id).length > 0); // found as they are ended below
    const paused = runners.find((r) => r.name === running.runner)!;
    paused.proc.kill('SIGSTOP');
    await waitUntil(async () => (await job(name, 'long')).status === 'FAILED', 15_000);
    paused.proc.kill('SIGCONT');
    await waitUntil(
      async () => (await server.client().runners()).find((r) => r.name === paused.name)?.status === 'ACTIVE',
    );
    // Its job's processes are no longer running.
    await waitUntil(async () => jobProcesses(running.id).length === 0);
    expect((await job(name, 'long')).status).toBe('FAILED');
    // The job's log and the runner's say why: the server had failed it meanwhile, no user aborted it.
    const why = 'the server had ended it: FAILED: runner lost';
    await waitUntil(async () => paused.output.includes(`job ${running.id} aborted: ${why}`));
    const notes = await waitUntil(async () => {
      const { stderr } = await dstack(['logs', running.id]);
      return stderr.includes('[dstack] aborted') && stderr;
    });
    expect(notes).toContain(`[dstack] aborted (${why}): its commands were killed, and no artifacts are kept\n`);
  });

  it('finishes a run across a server restart, with its log whole', async () => {
    const name = (await dstack(['run', 'ticker', '-d', '--no-cache'])).stdout.trim();
    await waitUntil(async () => (await dstack(['logs', name])).stdout.includes('tick 3'));
    const followed = dstack(['logs', '-f', name]);
    await new Promise((r) => setTimeout(r, 500)); // following
    await server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await server.boot();
    await waitUntil(async () => (await view(name)).status === 'DONE', 30_000).catch(async (e: unknown) => {
      const jobs = (await view(name)).jobs.map((j) => `${j.status} ${j.reason ?? ''} on ${j.runner}`).join('; ');
      const said = runners.map((r) => `${r.name}:\n${r.output}`).join('\n');
      throw new Error(`${(e as Error).message}; jobs: ${jobs}; the runners said:\n${said}`);
    });
    const logs = (await dstack(['logs', name])).stdout;
    expect(logs).toBe(Array.from({ length: 20 }, (_, i) => `tick ${i + 1}\n`).join(''));
    // A follower across the restart says once that its stream broke, however many tries it took, and when it is back.
    const follow = await followed;
    expect(follow.stdout).toBe(logs);
    expect(follow.stderr).toMatch(
      /^\[dstack\] log stream interrupted \((the connection to \S+ dropped|the log stream from \S+ ended early)\); resuming\n\[dstack\] log stream resumed\n$/,
    );
  });

  it('stops the jobs of a runner shut down with SIGTERM as dstack stop does; back, it takes work again', async () => {
    const name = (await dstack(['run', 'saver', '-d'])).stdout.trim();
    await waitUntil(async () => (await dstack(['logs', name])).stdout.includes('ready'));
    const running = await job(name, 'saver');
    expect(running.runner).toBe('r3'); // the one runner with a GPU
    const r3 = runners.find((r) => r.name === 'r3')!;
    await r3.kill('SIGTERM'); // it exits once its job has stopped and saved its artifacts
    expect(await job(name, 'saver')).toMatchObject({ status: 'STOPPED', reason: 'stopped: its runner shut down' });
    expect((await dstack(['logs', name])).stdout).toContain('got SIGTERM');
    expect((await dstack(['artifacts', running.id])).stdout).toMatch(/checkpoint +checkpoint\/state /);
    // Listed as shut down, not active until the server's timeout marks it lost.
    expect((await dstack(['runners'])).stdout).toMatch(/^r3 .* OFFLINE +0 /m);
    r3.boot();
    await waitUntil(async () => (await server.client().runners()).find((r) => r.name === 'r3')?.status === 'ACTIVE');
    expect((await dstack(['resume', running.id])).code).toBe(0);
    await waitUntil(async () => (await dstack(['logs', name])).stdout.includes('starting from 1'), 30_000);
    await dstack(['stop', '--abort', name]);
  });

  it("keeps tags per user: another user's tag neither resolves for them nor takes their name", async () => {
    const bob = as((await server.client().addUser('bob')).token);
    expect((await dstack(['run', 'tagged-data', '--tag', 'data-v1', '--no-cache'])).code).toBe(0);
    const other = await sb.dstack(['run', 'use-tagged'], bob);
    expect(other.stderr).toMatch(
      /error: \.dstack\/workflows\.yaml:\d+:\d+: depends-on 'tagged-data:data-v1': tag 'data-v1' does not exist in project \S+; see 'dstack tags list'/,
    );
    expect(other.code).toBe(2);
    expect((await sb.dstack(['run', 'tagged-data', '--tag', 'data-v1', '--no-cache'], bob)).code).toBe(0);
    const own = await sb.dstack(['run', 'use-tagged'], bob);
    expect(own.code).toBe(0);
    const bobsTag = (await sb.dstack(['tags', 'list'], bob)).stdout;
    expect(bobsTag.match(/data-v1/g)).toHaveLength(1);
    expect(bobsTag.split('\n')[0]).not.toContain('USER'); // one user's tags: no column for whose
    const adminsView = (await dstack(['tags', 'list'])).stdout;
    expect(adminsView.match(/data-v1/g)).toHaveLength(2); // an admin sees both, and whose each is
    expect(adminsView.split('\n')[0]).toMatch(/^TAG +RUN +USER +WORKFLOW/);
    expect(adminsView).toMatch(/^data-v1 +\S+ +bob +tagged-data/m);

    // An admin deletes their own tag first; another user's only when no other user has one there.
    expect((await dstack(['tags', 'delete', 'data-v1'])).stdout).toContain('deleted tag data-v1');
    const carol = as((await server.client().addUser('carol')).token);
    expect((await sb.dstack(['run', 'tagged-data', '--tag', 'data-v1', '--no-cache'], carol)).code).toBe(0);
    const tagged = await server.client().tags(sb.root); // newest first: carol's, then bob's
    expect(tagged.map((r) => r.user)).toEqual(['carol', 'bob']);
    const both = await dstack(['tags', 'delete', 'data-v1']);
    expect(both.stderr).toContain(
      `error: tag 'data-v1' is on 2 runs: ${tagged.map((r) => `${r.user}, ${sb.root} (run ${r.name})`).join('; ')}; ` +
        'add --user NAME to say whose',
    );
    expect(both.code).toBe(1);
    // --user says whose: an admin's for another user, refused a user's.
    const notMine = await sb.dstack(['tags', 'delete', 'data-v1', '--user', 'carol'], bob);
    expect([notMine.code, notMine.stderr]).toEqual([1, "error: only an admin deletes another user's tag\n"]);
    expect((await dstack(['tags', 'delete', 'data-v1', '--user', 'bob'])).stdout).toBe(
      `deleted tag data-v1 of bob's run ${tagged[1]!.name} (project ${sb.root})\n`,
    );
    expect((await server.client().tags(sb.root)).map((r) => r.user)).toEqual(['carol']);
  });

  it("stops a deleted user's running job, its artifacts saved, and says so", async () => {
    const dave = as((await server.client().addUser('dave')).token);
    const name = (await sb.dstack(['run', 'saver', '-d'], dave)).stdout.trim();
    await waitUntil(async () => (await dstack(['logs', name])).stdout.includes('ready'));
    const deleted = await dstack(['users', 'delete', 'dave']);
    expect(deleted.stdout).toBe('deleted user dave; stopped their unfinished job (artifacts saved)\n');
    await waitUntil(async () => (await job(name, 'saver')).status === 'STOPPED');
    const stopped = await job(name, 'saver');
    expect(stopped.reason).toBe('stopped: its user was deleted');
    expect((await dstack(['artifacts', stopped.id])).stdout).toMatch(/checkpoint +checkpoint\/state /);
  });

  it("prunes a user's own runs of the project; an admin's, every user's, saying whose", async () => {
    const erin = as((await server.client().addUser('erin')).token);
    expect((await sb.dstack(['run', 'tagged-data', '--no-cache'], erin)).code).toBe(0);
    const [mine] = JSON.parse((await sb.dstack(['status', '--last', '1', '--json'], erin)).stdout) as RunView[];
    const own = await sb.dstack(['prune', '--older-than', '0s', '--dry-run'], erin);
    expect(own.stdout).toMatch(new RegExp(`^would prune 1 run of project ${sb.root} \\(${mine!.name}\\), `));
    expect(own.stdout).not.toContain('other users');
    const admins = await dstack(['prune', '--older-than', '0s', '--dry-run']);
    expect(admins.stdout).toContain(mine!.name);
    // bob's untagged use-tagged run goes too; carol's and bob's tagged runs stay.
    expect(admins.stdout).toContain(
      "\nruns of other users among them (bob, erin): an admin prunes every user's runs\n",
    );
  });

  async function lastRun(): Promise<RunView> {
    return (JSON.parse((await dstack(['status', '--last', '1', '--json'])).stdout) as RunView[])[0]!;
  }
});

describe('a runner shut down while its server is down', () => {
  it(
    'gives up on stopping its jobs through the server after a while, says so, and exits, ending them',
    { timeout: 60_000 },
    async () => {
      const server = await TeamServer.start();
      const runner = await TeamRunner.start(server, 'r1', ['--cpu', '1']);
      await waitUntil(async () => (await server.client().runners()).find((r) => r.name === 'r1')?.status === 'ACTIVE');
      const sb = await Sandbox.create();
      await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
      const env = { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } };
      const name = (await sb.dstack(['run', 'long', '-d'], env)).stdout.trim();
      const running = await waitUntil(async () => {
        const j = (JSON.parse((await sb.dstack(['status', name, '--json'], env)).stdout) as RunView[])[0]!.jobs[0]!;
        return j.status === 'RUNNING' && j;
      });
      await waitUntil(async () => jobProcesses(running.id).length > 0); // found as they are ended below
      await server.kill('SIGKILL');
      const started = Date.now();
      await runner.kill('SIGTERM');
      expect(Date.now() - started).toBeLessThan(30_000); // not the client's two minutes of retries
      expect(runner.output).toContain(
        'could not stop the jobs through the server; exiting, and they end here unreported ' +
          '(SIGTERM, then SIGKILL after 10 s)',
      );
      expect(runner.output).toContain('no answer from the server in 10 s');
      await waitUntil(async () => jobProcesses(running.id).length === 0, 5000);
    },
  );
});

describe('a runner behind a connection that keeps dropping', () => {
  it('loses no log line, doubles none, and moves artifacts whole', { timeout: 150_000 }, async () => {
    const server = await TeamServer.start(['--runner-timeout', '30']);
    const proxy = await CuttableProxy.start(server.port);
    const runner = await TeamRunner.start(server, 'flaky', ['--cpu', '1'], `http://127.0.0.1:${proxy.port}`);
    const sb = await Sandbox.create();
    try {
      await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
      const env = { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } };
      const name = (await sb.dstack(['run', 'chatty-reader', '-d'], env)).stdout.trim();
      let cuts = 0;
      // Every 150 ms: long polls, transitions, log batches and artifact uploads all lose connections mid-way.
      const cutter = setInterval(() => (cuts += proxy.cut() > 0 ? 1 : 0), 150);
      let run: RunView | undefined;
      await waitUntil(async () => {
        run = JSON.parse((await sb.dstack(['status', name, '--json'], env)).stdout)[0] as RunView;
        return run.status === 'DONE';
      }, 110_000).catch((e: unknown) => {
        const jobs = run?.jobs.map((j) => `${j.workflow}: ${j.status} ${j.reason ?? ''}`).join('; ');
        throw new Error(`${(e as Error).message}; jobs: ${jobs}; the runner said:\n${runner.output}`);
      });
      clearInterval(cutter);
      expect(cuts).toBeGreaterThan(3);
      const [chatty, reader] = (JSON.parse((await sb.dstack(['status', name, '--json'], env)).stdout)[0] as RunView)
        .jobs;
      const logs = (await sb.dstack(['logs', chatty!.id], env)).stdout;
      expect(logs).toBe(Array.from({ length: 300 }, (_, i) => `line ${i + 1}\n`).join(''));
      // Its artifacts, small files packed and a big one alone, reached the next job whole.
      expect((await sb.dstack(['logs', reader!.id], env)).stdout).toBe('file 7\nsame\n');
    } finally {
      proxy.close();
      await runner.kill();
      await server.kill('SIGTERM');
    }
  });
});

describe('authentication on every route', () => {
  let server: TeamServer;
  let alice: string;
  let runnerToken: string;
  let adminRun: string;
  let adminJob: JobRecord;

  beforeAll(async () => {
    server = await TeamServer.start(['--runner-timeout', '30']);
    alice = (await server.client().addUser('alice')).token;
    runnerToken = (await server.client().addRunner('rx')).token;
    const sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: a\n    commands: [echo a]\n' });
    adminRun = (
      await sb.dstack(['run', 'a', '-d'], { env: { DSTACK_SERVER: server.url, DSTACK_TOKEN: server.token } })
    ).stdout.trim();
    adminJob = (await server.client().getRun(adminRun)).jobs[0]!;
  });
  afterAll(() => server.kill('SIGTERM'));

  const digest = 'a'.repeat(64);
  const userRoutes = (): [string, string, unknown?][] => [
    ['GET', '/api/runs'],
    ['POST', '/api/runs', {}],
    ['POST', '/api/runs/preview', {}],
    ['GET', `/api/runs/${adminRun}`],
    ['GET', `/api/jobs/${adminJob.id}`],
    ['GET', `/api/jobs/${adminJob.id}/artifacts`],
    ['GET', `/api/jobs/${adminJob.id}/artifacts/archive`],
    ['GET', `/api/jobs/${adminJob.id}/log`],
    ['POST', '/api/stop', { target: adminRun }],
    ['POST', '/api/resume', { target: adminRun }],
    ['GET', `/api/logs?target=${adminRun}`],
    ['GET', `/api/logs/stream?target=${adminRun}`],
    ['GET', '/api/tags'],
    ['POST', '/api/tags', { tag: 't', run: adminRun }],
    ['DELETE', '/api/tags/t'],
    ['POST', '/api/prune', { olderThanMs: 0 }],
    ['GET', '/api/users'],
    ['POST', '/api/users', { name: 'bob' }],
    ['DELETE', '/api/users/alice'],
    ['POST', '/api/users/alice/token'],
    ['GET', '/api/runners'],
    ['POST', '/api/runners', { name: 'r9' }],
    ['DELETE', '/api/runners/rx'],
    ['POST', '/api/runners/rx/token'],
  ];
  const runnerRoutes = (): [string, string, unknown?][] => [
    ['POST', '/api/runner/register', {}],
    ['POST', '/api/runner/claim', {}],
    ['POST', '/api/runner/heartbeat', {}],
    ['POST', '/api/runner/drain', {}],
    ['POST', '/api/runner/leave', {}],
    ['POST', `/api/runner/jobs/${adminJob.id}/transition`, {}],
    ['POST', `/api/runner/jobs/${adminJob.id}/logs`, { entries: [] }],
    ['PUT', `/api/runner/jobs/${adminJob.id}/artifacts`, { artifacts: [] }],
  ];
  const anyRoutes = (): [string, string, unknown?][] => [
    ['GET', '/api/health'],
    ['POST', '/api/blobs/missing', { digests: [] }],
    ['GET', `/api/blobs/${digest}`],
  ];

  async function call(method: string, path: string, token: string | undefined, body?: unknown) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const r = await fetch(server.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text };
  }

  it('refuses every route without a token, or with a wrong one', async () => {
    for (const [method, path, body] of [...userRoutes(), ...runnerRoutes(), ...anyRoutes()]) {
      for (const token of [undefined, 'dst_wrong', `${server.token}x`]) {
        const r = await call(method, path, token, body);
        expect([method, path, r.status]).toEqual([method, path, 401]);
        expect(JSON.parse(r.body)).toEqual({
          error: {
            code: 'unauthorized',
            message: 'missing or invalid token (pass it as "Authorization: Bearer TOKEN")',
          },
        });
      }
    }
  });

  it('refuses runner tokens on user routes and user tokens on runner routes', async () => {
    for (const [method, path, body] of userRoutes()) {
      const r = await call(method, path, runnerToken, body);
      expect([path, r.status, JSON.parse(r.body).error.message]).toEqual([
        path,
        403,
        "this route is for user tokens, and this is the token of runner 'rx': the CLI and the dashboard need a user's " +
          'token (dstack users add NAME prints one)',
      ]);
    }
    for (const [method, path, body] of runnerRoutes()) {
      const r = await call(method, path, alice, body);
      expect([path, r.status, JSON.parse(r.body).error.message]).toEqual([
        path,
        403,
        "this route is for runner tokens, and this is the token of user 'alice': a runner needs its own " +
          '(dstack runners add NAME prints it)',
      ]);
    }
    // A runner token acts only as its own runner: it cannot shut another one down.
    const drain = await call('POST', '/api/runner/drain', runnerToken, { name: 'r1', reason: 'no' });
    expect([drain.status, JSON.parse(drain.body).error.message]).toEqual([403, "this token is for runner 'rx'"]);
    const leave = await call('POST', '/api/runner/leave', runnerToken, { name: 'r1' });
    expect([leave.status, JSON.parse(leave.body).error.message]).toEqual([403, "this token is for runner 'rx'"]);
  });

  it("answers another user's run or job as one that does not exist, and refuses admin routes to a non-admin", async () => {
    // Run names are guessable: a different answer for another user's would tell which names exist.
    const missing = (name: string) => `no run or job named '${name}' (see 'dstack status --last 10')`;
    const absentJob = adminJob.id.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    for (const [method, path, body, message] of [
      ['GET', `/api/runs/${adminRun}`, undefined, missing(adminRun)],
      ['GET', '/api/runs/no-such-run-1', undefined, missing('no-such-run-1')],
      ['GET', `/api/jobs/${adminJob.id}`, undefined, missing(adminJob.id)],
      ['GET', `/api/jobs/${absentJob}`, undefined, missing(absentJob)],
      ['POST', '/api/stop', { target: adminRun }, missing(adminRun)],
      ['POST', '/api/stop', { target: adminJob.id }, missing(adminJob.id)],
      ['GET', `/api/logs?target=${adminRun}`, undefined, missing(adminRun)],
      ['GET', `/api/jobs/${adminJob.id}/log`, undefined, missing(adminJob.id)],
      ['GET', `/api/jobs/${adminJob.id}/artifacts/archive`, undefined, missing(adminJob.id)],
      ['POST', '/api/tags', { tag: 't', run: adminRun }, missing(adminRun)],
    ] as [string, string, unknown, string][]) {
      const r = await call(method, path, alice, body);
      expect([path, r.status, JSON.parse(r.body).error.message]).toEqual([path, 404, message]);
    }
    expect(JSON.parse((await call('GET', '/api/runs', alice)).body)).toEqual([]);
    for (const [method, path, body] of [
      ['GET', '/api/users'],
      ['POST', '/api/users', { name: 'bob' }],
      ['POST', '/api/runners', { name: 'r9' }],
      ['POST', '/api/runners/rx/token'],
    ] as [string, string, unknown?][]) {
      const r = await call(method, path, alice, body);
      expect([path, r.status, JSON.parse(r.body).error.message]).toEqual([path, 403, 'only an admin can do this']);
    }
  });

  it('stores tokens only hashed', async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const db = await readFile(join(server.dataDir, 'dstack.db')).catch(() => Buffer.alloc(0));
    const wal = await readFile(join(server.dataDir, 'dstack.db-wal')).catch(() => Buffer.alloc(0));
    for (const token of [server.token, alice, runnerToken]) {
      expect(db.includes(token)).toBe(false);
      expect(wal.includes(token)).toBe(false);
    }
  });
});
