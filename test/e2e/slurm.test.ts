/**
 * The Slurm backend end to end, on the real single-node Slurm of scripts/slurm.sh: the
 * example pipeline, a failed job's artifacts, a job pending on resources, jobs no node could
 * run, stop/resume, abort, a cancel outside dstack, a runner killed at KillWait while it saves, a
 * suspended job, the cache across backends, failed starts
 * and a restart under a running job. One file, so that no two tests compete for the node.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinished, SLURM_ENDED } from '../../src/core/job-status.js';
import type { JobRecord, RunView } from '../../src/core/records.js';
import { makeCertificates } from '../services/certificates.js';
import { ensureSlurm, holdTheNode, skipSlurm, slurm } from '../services/slurm.js';
import { checkpointingWorkflow } from './checkpointing.js';
import { Sandbox, waitUntil } from './harness.js';
import { DstackServer, copyPipeline } from './slurm-harness.js';
import { CuttableProxy } from './team-harness.js';

const MORE_WORKFLOWS = `
  - name: hello
    commands:
      - echo "hello from $(hostname)"
      - echo "extra=\${NODE_EXTRA_CA_CERTS-unset} deferred=\${DSTACK_DEFERRED_CA_CERTS-unset}"
${checkpointingWorkflow('sleepy')}  - name: ticker
    commands:
      - for i in $(seq 1 40); do echo "tick $i"; sleep 0.1; done
  - name: huge
    resources:
      cpu: 512
    commands:
      - echo never
  - name: gpu-job
    resources:
      gpu: 1
    commands:
      - echo never
  - name: slow-saver
    commands:
      - mkdir -p ck
      - sh -c 'trap "echo saving; sleep 30; echo saved > ck/state; exit 0" TERM; echo ready; while true; do sleep 0.1; done'
    artifacts: [ck]
  - name: crash
    commands:
      - mkdir -p ck && echo epoch5 > ck/state; exit 1
    artifacts: [ck]
`;

describe.skipIf(skipSlurm)('Slurm backend', () => {
  let sb: Sandbox;
  let server: DstackServer;
  const onSlurm = (args: string[], timeoutMs?: number) =>
    sb.dstack(args, { env: server.env(), ...(timeoutMs ? { timeoutMs } : {}) });
  const runView = async (name: string): Promise<RunView> => {
    const r = await onSlurm(['status', name, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as RunView[])[0]!;
  };
  const jobOf = async (name: string): Promise<JobRecord> => (await runView(name)).jobs[0]!;
  const logsOf = async (target: string) => (await onSlurm(['logs', target])).stdout;
  const detached = async (args: string[]) => {
    const r = await onSlurm(['run', ...args, '-d']);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  /** The Slurm job that runs a dstack job, by the name the backend gives it. */
  const slurmIdOf = async (job: JobRecord) =>
    (await slurm('squeue', ['-h', '-t', 'all', '-n', `dstack-${job.workflow}-${job.id}`, '-o', '%i'])).trim();

  beforeAll(async () => {
    await ensureSlurm();
    sb = await Sandbox.create();
    await copyPipeline(sb.root);
    const workflows = join(sb.root, '.dstack', 'workflows.yaml');
    await sb.write({ '.dstack/workflows.yaml': (await readFile(workflows, 'utf8')) + MORE_WORKFLOWS });
    // A CA bundle for the server's environment: the batch script moves it aside for the runner's start.
    await makeCertificates(dirname(sb.home));
    server = await DstackServer.create({ NODE_EXTRA_CA_CERTS: join(dirname(sb.home), 'ca.pem') });
    await server.start('slurm');
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    await sb?.dispose();
  });

  it('runs examples/pipeline through Slurm with the logs and artifacts of the local runner', async () => {
    const r = await onSlurm(['run', 'evaluate'], 120_000);
    expect(r.code, r.stderr + server.output).toBe(0);
    const run = (JSON.parse((await onSlurm(['status', '--last', '1', '--json'])).stdout) as RunView[])[0]!;
    expect(run.jobs.map((j) => [j.workflow, j.status, j.runner])).toEqual([
      ['prepare', 'DONE', 'slurm'],
      ['train', 'DONE', 'slurm'],
      ['evaluate', 'DONE', 'slurm'],
    ]);
    // Slurm ran them, under their names: its job completion log says so.
    const completed = await slurm('sacct', ['-c', '-n', '-P', '-o', 'jobname,state']);
    for (const job of run.jobs) expect(completed).toContain(`dstack-${job.workflow}-${job.id}|COMPLETED`);

    // The same pipeline on the embedded server's local runner (no cache shared with it).
    const local = await sb.dstack(['run', 'evaluate'], { timeoutMs: 120_000 });
    expect(local.code, local.stderr).toBe(0);
    const localRun = await sb.lastRun();
    for (const [i, job] of run.jobs.entries()) {
      const localJob = localRun.jobs[i]!;
      expect(localJob.runner).toBe('local');
      expect(await logsOf(job.id)).toBe((await sb.dstack(['logs', localJob.id])).stdout);
      expect((await onSlurm(['artifacts', job.id])).stdout).toBe((await sb.dstack(['artifacts', localJob.id])).stdout);
    }
    expect(await logsOf(run.jobs[2]!.id)).toMatch(/^test mse=\d+\.\d+ on 400 rows$/m);
    // The runner's capacity is the partition's (the queue beyond it is no size); no Docker engine by default.
    const cpus = Number((await slurm('sinfo', ['-h', '-o', '%C'])).trim().split('/').at(-1));
    expect((await onSlurm(['runners'])).stdout).toMatch(new RegExp(`^slurm +slurm +${cpus}/${cpus} .* no `, 'm'));
  });

  it('saves the artifacts of a job whose commands fail, then ends it FAILED with the exit code', async () => {
    const r = await onSlurm(['run', 'crash'], 120_000);
    expect(r.code, r.stderr + server.output).toBe(1);
    expect(r.stderr).toMatch(/\[dstack\] saved artifacts: 1 file, 7B/);
    const job = (JSON.parse((await onSlurm(['status', '--last', '1', '--json'])).stdout) as RunView[])[0]!.jobs[0]!;
    expect([job.status, job.reason, job.exitCode, job.runner]).toEqual(['FAILED', 'exit code 1', 1, 'slurm']);
    expect((await onSlurm(['artifacts', job.id])).stdout).toMatch(/^ck\s+ck\/state\s+7B$/m);
    // Its runner said all there is: no output file is kept for a post-mortem in the shared work dir.
    const jobs = join(server.dataDir, 'slurm', 'work', 'jobs');
    await waitUntil(async () => !(await readdir(jobs)).includes(job.id), 10_000);
  });

  it("shows a job pending on resources with Slurm's reason, and runs it once they are free", async () => {
    const blocker = await holdTheNode();
    try {
      const name = await detached(['hello']);
      const pending = await waitUntil(async () => {
        const job = await jobOf(name);
        return /^slurm \d+: PENDING \(Resources\)$/.test(job.reason ?? '') && job;
      });
      expect(pending.status).toBe('DOWNLOADING');
      expect((await onSlurm(['status', name])).stdout).toMatch(/DOWNLOADING slurm \d+: PENDING \(Resources\)/);

      // Someone cancels a waiting job in Slurm's queue: Slurm keeps its pending reason, no cause of the end.
      const cancelled = await detached(['ticker']);
      const waiting = await waitUntil(async () => {
        const job = await jobOf(cancelled);
        return /^slurm \d+: PENDING \((Resources|Priority)\)$/.test(job.reason ?? '') && job;
      });
      const waitingId = await slurmIdOf(waiting);
      await slurm('scancel', [waitingId]);
      const ended = await waitUntil(async () => {
        const job = await jobOf(cancelled);
        return job.status === 'FAILED' && job;
      }, 30_000);
      expect(ended.reason).toMatch(
        new RegExp(`^slurm ${waitingId}: CANCELLED while PENDING \\((Resources|Priority)\\)$`),
      );

      await slurm('scancel', [blocker]);
      const done = await waitUntil(async () => {
        const job = await jobOf(name);
        return job.status === 'DONE' && job;
      }, 30_000);
      expect(done.reason).toBe('exit code 0');
      expect(await logsOf(name)).toMatch(/^hello from \S+$/m);
      // The runner put NODE_EXTRA_CA_CERTS back (src/cli/deferred-ca.ts): the job sees the server's.
      expect(await logsOf(name)).toContain(`extra=${join(dirname(sb.home), 'ca.pem')} deferred=unset`);
    } finally {
      await slurm('scancel', [blocker]);
    }
  }, 240_000);

  it('fails a job that no node could run, far beyond the cluster or asking for a GPU it lacks', async () => {
    const cpus = (await slurm('sinfo', ['-h', '-N', '-o', '%c'])).trim();
    const huge = await onSlurm(['run', 'huge'], 60_000);
    expect(huge.code).toBe(1);
    expect(huge.stdout + huge.stderr).toContain(`slurm: no node has 512 CPUs (the most is ${cpus})`);
    const name = await detached(['gpu-job']);
    const failed = await waitUntil(async () => {
      const job = await jobOf(name);
      return job.status === 'FAILED' && job;
    }, 30_000);
    expect(failed.reason).toBe('slurm: no node has 1 GPU (the most is 0)');
  });

  it(
    'stops a job with SIGTERM, saves its checkpoint, resumes it from there, and aborts it',
    { timeout: 180_000 },
    async () => {
      const name = await detached(['sleepy']);
      await waitUntil(async () => (await logsOf(name)).includes('ready'), 30_000);
      const job = await jobOf(name);
      const slurmId = await slurmIdOf(job);
      expect(slurmId).toMatch(/^\d+$/);
      expect((await onSlurm(['stop', name])).stdout).toMatch(/sleepy STOPPING/);
      const stopped = await waitUntil(async () => {
        const j = await jobOf(name);
        return j.status === 'STOPPED' && j;
      }, 30_000);
      expect(stopped.reason).toBe('stopped by user');
      expect(await logsOf(name)).toContain('got SIGTERM');
      const out = join(sb.root, '..', 'slurm-stopped');
      await onSlurm(['artifacts', stopped.id, '--output', out]);
      expect(await readFile(join(out, 'checkpoint/state'), 'utf8')).toBe('saved\n');
      expect(await readFile(join(out, 'checkpoint/count'), 'utf8')).toBe('1\n');

      expect((await onSlurm(['resume', stopped.id])).stdout).toMatch(/sleepy SUBMITTED/);
      // Other test files run Slurm jobs too, on the node's two CPUs: the resumed job may wait its turn.
      await waitUntil(
        async () => (await logsOf(name)).includes('starting from 1'),
        90_000,
        async () => `${JSON.stringify(await jobOf(name))}\n${await logsOf(name)}`,
      );
      // A new Slurm job (the first one may still be listed, ended, until MinJobAge).
      const second = (await slurmIdOf(await jobOf(name))).split('\n').find((id) => id !== slurmId);
      expect(second).toMatch(/^\d+$/);

      expect((await onSlurm(['stop', '--abort', name])).stdout).toMatch(/sleepy ABORTING/);
      const aborted = await waitUntil(async () => {
        const j = await jobOf(name);
        return j.status === 'ABORTED' && j;
      }, 30_000);
      expect(aborted.reason).toBe('aborted by user');
      await waitUntil(async () => {
        const state = (await slurm('squeue', ['-h', '-t', 'all', '-j', second!, '-o', '%T']).catch(() => '')).trim();
        return state === '' || state === 'CANCELLED' || state === 'COMPLETED';
      }, 30_000);
    },
  );

  it(
    'stops a job that Slurm ends behind dstack (as at its time limit), saving its checkpoint, and resumes it from there',
    { timeout: 120_000 },
    async () => {
      const name = await detached(['sleepy']);
      await waitUntil(async () => (await logsOf(name)).includes('ready'), 30_000);
      const slurmId = await slurmIdOf(await jobOf(name));
      // What Slurm does at a time limit, a preemption or an admin's scancel: SIGTERM to the batch
      // job's processes, the runner's among them, and SIGKILL after KillWait.
      await slurm('scancel', [slurmId]);
      const stopped = await waitUntil(async () => {
        const j = await jobOf(name);
        return isFinished(j.status) && j;
      }, 30_000);
      expect(stopped.status).toBe('STOPPED');
      // The runner only knew Slurm's SIGTERM; once Slurm shows the end, the reason names it.
      const named = `stopped: Slurm ended the batch job (slurm ${slurmId}: CANCELLED)`;
      expect([SLURM_ENDED, named]).toContain(stopped.reason);
      await waitUntil(
        async () => (await jobOf(name)).reason === named,
        10_000,
        async () => JSON.stringify(await jobOf(name)),
      );
      expect((await onSlurm(['status', name])).stdout).toContain(`STOPPED ${named}`);
      expect(await logsOf(name)).toContain('got SIGTERM'); // Slurm signalled the job itself
      const out = join(sb.root, '..', 'slurm-ended');
      await onSlurm(['artifacts', stopped.id, '--output', out]);
      expect(await readFile(join(out, 'checkpoint/state'), 'utf8')).toBe('saved\n');

      expect((await onSlurm(['resume', stopped.id])).stdout).toMatch(/sleepy SUBMITTED/);
      await waitUntil(
        async () => (await logsOf(name)).includes('starting from 1'),
        90_000,
        async () => `${JSON.stringify(await jobOf(name))}\n${await logsOf(name)}`,
      );
      expect((await onSlurm(['stop', '--abort', name])).stdout).toMatch(/sleepy ABORTING/);
      await waitUntil(async () => (await jobOf(name)).status === 'ABORTED', 30_000);
    },
  );

  it(
    "fails a job whose runner Slurm kills while it saves as soon as the job's processes are gone, saying so",
    { timeout: 90_000 },
    async () => {
      const name = await detached(['slow-saver']);
      await waitUntil(async () => (await logsOf(name)).includes('ready'), 30_000);
      const slurmId = await slurmIdOf(await jobOf(name));
      // The runner's grace period (10 s by default) outlasts scripts/slurm.sh's KillWait=5: SIGKILL while it saves.
      const cancelledAt = Date.now();
      await slurm('scancel', [slurmId]);
      const failed = await waitUntil(async () => {
        const j = await jobOf(name);
        return isFinished(j.status) && j;
      }, 60_000);
      const took = Date.now() - cancelledAt;
      expect([failed.status, failed.reason]).toEqual([
        'FAILED',
        `slurm ${slurmId}: CANCELLED; its runner was killed (KillWait) before it saved the job's artifacts`,
      ]);
      // KillWait, Slurm's reaping and the 3 s left for last reports: not a fixed 35 s on top of them.
      expect(took).toBeLessThan(20_000);
    },
  );

  it(
    'shows a job Slurm suspends, and a stop of it cancels it saying nothing was saved',
    { timeout: 90_000 },
    async () => {
      const name = await detached(['sleepy']);
      await waitUntil(async () => (await logsOf(name)).includes('ready'), 30_000);
      const slurmId = await slurmIdOf(await jobOf(name));
      await slurm('scontrol', ['suspend', slurmId]);
      try {
        await waitUntil(async () => (await jobOf(name)).reason === `slurm ${slurmId}: SUSPENDED`, 10_000);
        expect((await onSlurm(['status', name])).stdout).toContain(`RUNNING slurm ${slurmId}: SUSPENDED`);
        expect((await onSlurm(['stop', name])).stdout).toMatch(/sleepy STOPPING/);
        const stopped = await waitUntil(async () => {
          const j = await jobOf(name);
          return isFinished(j.status) && j;
        }, 20_000);
        expect([stopped.status, stopped.reason]).toEqual([
          'STOPPED',
          `stopped by user; slurm ${slurmId} was SUSPENDED: cancelled, nothing saved`,
        ]);
        expect(await logsOf(name)).not.toContain('got SIGTERM');
      } finally {
        await slurm('scancel', [slurmId]).catch(() => '');
      }
    },
  );

  it('runs a job to its end through a connection to the server that keeps dropping', { timeout: 120_000 }, async () => {
    // The batch job reaches the server through a proxy that is down 400 ms of every second.
    const proxy = await CuttableProxy.start(server.port);
    await server.start('slurm', ['--slurm-server-url', `http://127.0.0.1:${proxy.port}`]);
    let cutter: NodeJS.Timeout | undefined;
    try {
      const name = await detached(['ticker']);
      // Cut only once the job runs: the first request (its assignment) fails at once by design.
      await waitUntil(async () => (await logsOf(name)).includes('tick 1'), 30_000);
      let outages = 0;
      cutter = setInterval(() => {
        proxy.down();
        outages++;
        setTimeout(() => proxy.up(), 400);
      }, 1000);
      // The batch job's output is its runner's log; read as it runs: the backend removes the
      // folder of a job that ended DONE as soon as it sees the Slurm job gone.
      let said = '';
      const ended = await waitUntil(async () => {
        const job = await jobOf(name);
        const out = join(server.dataDir, 'slurm', 'work', 'jobs', job.id); // a folder per submission inside
        const files = await readdir(out, { recursive: true }).catch(() => []);
        const texts = await Promise.all(
          files.filter((f) => f.endsWith('.out')).map((f) => readFile(join(out, f), 'utf8').catch(() => '')),
        );
        if (texts.join('').length >= said.length) said = texts.join('');
        return isFinished(job.status) && job;
      }, 60_000);
      clearInterval(cutter);
      expect(ended.status, `${ended.reason}\n${server.output}`).toBe('DONE');
      expect(outages).toBeGreaterThan(1);
      // Its requests failed, and were tried again.
      expect(said).toMatch(/(request|[A-Z]+ \/api\/\S+) failed; retrying in \d+ ms/);
      expect(await logsOf(name)).toBe(Array.from({ length: 40 }, (_, i) => `tick ${i + 1}\n`).join(''));
    } finally {
      clearInterval(cutter);
      proxy.up();
      proxy.close();
      await server.start('slurm');
    }
  });

  it('reuses jobs across backends: Slurm results on the local runner, and local results on Slurm', async () => {
    // Everything of `evaluate` ran on Slurm in the first test: a local-runner server on the same data reuses it.
    await server.start('local');
    const cached = await onSlurm(['run', 'evaluate', '-d']);
    expect(cached.code, cached.stderr).toBe(0);
    const reused = await waitUntil(async () => {
      const run = await runView(cached.stdout.trim());
      return run.status === 'DONE' && run;
    });
    expect(reused.jobs.map((j) => [j.workflow, j.reason])).toEqual([
      ['prepare', 'cached'],
      ['train', 'cached'],
      ['evaluate', 'cached'],
    ]);
    // Another seed: prepare and train run on the local runner.
    const trained = await onSlurm(['run', 'train', '--seed', '7'], 120_000);
    expect(trained.code, trained.stderr).toBe(0);
    const localRun = (JSON.parse((await onSlurm(['status', '--last', '1', '--json'])).stdout) as RunView[])[0]!;
    expect(localRun.jobs.map((j) => [j.workflow, j.reason, j.runner])).toEqual([
      ['prepare', 'exit code 0', 'local'],
      ['train', 'exit code 0', 'local'],
    ]);
    // Back on Slurm: those are reused, and evaluate runs there.
    await server.start('slurm');
    const evaluated = await onSlurm(['run', 'evaluate', '--seed', '7'], 120_000);
    expect(evaluated.code, evaluated.stderr + server.output).toBe(0);
    const slurmRun = (JSON.parse((await onSlurm(['status', '--last', '1', '--json'])).stdout) as RunView[])[0]!;
    expect(slurmRun.jobs.map((j) => [j.workflow, j.reason, j.cachedFrom ?? null, j.runner ?? null])).toEqual([
      ['prepare', 'cached', localRun.jobs[0]!.id, null],
      ['train', 'cached', localRun.jobs[1]!.id, null],
      ['evaluate', 'exit code 0', null, 'slurm'],
    ]);
  });

  it('refuses to start with a Slurm command that is missing, a partition that does not exist or a work dir it cannot make, and never says it listens', async () => {
    const other = await DstackServer.create();
    const error = await other.start('slurm', ['--slurm-sbatch', '/opt/nowhere/sbatch']).catch((e: Error) => e);
    expect(String(error)).toContain(
      "error: sbatch not found at '/opt/nowhere/sbatch': set its path with --slurm-sbatch",
    );
    expect(other.output).not.toContain('server listening');
    // A partition that does not exist is said to be missing, not to have no nodes.
    const partitions = [...new Set((await slurm('sinfo', ['-h', '-a', '-o', '%R'])).trim().split('\n'))].join(', ');
    const nope = await other.start('slurm', ['--slurm-partition', 'nope']).catch((e: Error) => e);
    expect(String(nope)).toContain('the server exited (2)');
    expect(String(nope)).toContain(
      `error: Slurm partition 'nope' does not exist (sinfo: its partitions are ${partitions}): check --slurm-partition (or partition in --config)`,
    );
    // In a list beside one that exists, whose nodes sinfo lists: every job would have failed at sbatch.
    const listed = await other
      .start('slurm', ['--slurm-partition', `${partitions.split(', ')[0]!},nope,gone`])
      .catch((e: Error) => e);
    expect(String(listed)).toContain('the server exited (2)');
    expect(String(listed)).toContain(
      `error: Slurm partitions 'nope', 'gone' do not exist (sinfo: its partitions are ${partitions}): check --slurm-partition (or partition in --config)`,
    );
    expect(other.output).not.toContain('server listening');
    const workDir = await other.start('slurm', ['--slurm-work-dir', '/proc/nope']).catch((e: Error) => e);
    expect(String(workDir)).toContain('the server exited (2)');
    expect(String(workDir)).toContain(
      "error: invalid --slurm-work-dir '/proc/nope': cannot make the folder /proc/nope: no such file or directory; " +
        'give --slurm-work-dir (or work-dir in --config) a folder the server and the compute nodes share and can write',
    );
    expect(other.output).not.toContain('server listening');
    // Set in the config file, the error names the file's entry, not a flag nobody gave.
    const config = join(other.dataDir, '..', 'server.yml');
    await writeFile(config, 'backends:\n  - type: slurm\n    work-dir: /proc/nope\n');
    const fromFile = await other.start('slurm', ['--config', config]).catch((e: Error) => e);
    expect(String(fromFile)).toContain(`error: invalid work-dir in ${config} '/proc/nope': cannot make the folder`);
  });

  it(
    'runs a job that Slurm starts while the server restarts, once the server is back',
    { timeout: 240_000 },
    async () => {
      const blocker = await holdTheNode();
      try {
        const name = await detached(['ticker', '--no-cache']);
        const waiting = await waitUntil(async () => {
          const job = await jobOf(name);
          return /^slurm \d+: PENDING/.test(job.reason ?? '') && job;
        });
        const slurmId = await slurmIdOf(waiting);
        await server.stop();
        // Slurm starts the job while no server answers (an upgrade, a restart): its runner waits for one.
        await slurm('scancel', [blocker]);
        await waitUntil(
          async () => (await slurm('squeue', ['-h', '-j', slurmId, '-o', '%T'])).trim() === 'RUNNING',
          60_000,
        );
        await new Promise((r) => setTimeout(r, 3000));
        await server.start('slurm');
        const done = await waitUntil(async () => {
          const job = await jobOf(name);
          return isFinished(job.status) && job;
        }, 60_000);
        expect([done.status, done.reason], server.output).toEqual(['DONE', 'exit code 0']);
        expect(await logsOf(name)).toBe(Array.from({ length: 40 }, (_, i) => `tick ${i + 1}\n`).join(''));
      } finally {
        await slurm('scancel', [blocker]);
      }
    },
  );

  it('shuts down leaving its Slurm jobs running, and tracks them to their end at the next start', async () => {
    expect(server.output).toMatch(/INFO \[dstack\] server listening on http:\/\/127\.0\.0\.1:\d+/);
    const name = await detached(['ticker', '--no-cache']); // an earlier test ran it
    await waitUntil(async () => (await logsOf(name)).includes('tick 1'), 30_000);
    const slurmId = await slurmIdOf(await jobOf(name));
    await server.stop();
    expect(server.output).toContain(
      'SIGTERM: shutting down; jobs on runners and in Slurm keep running, and are tracked again at the next start\n',
    );
    expect((await slurm('squeue', ['-h', '-j', slurmId, '-o', '%T'])).trim()).toBe('RUNNING');
    await server.start('slurm');
    const done = await waitUntil(async () => {
      const job = await jobOf(name);
      return isFinished(job.status) && job;
    }, 60_000);
    expect(done.status, `${done.reason}\n${server.output}`).toBe('DONE');
    expect(await logsOf(name)).toBe(Array.from({ length: 40 }, (_, i) => `tick ${i + 1}\n`).join(''));
  });
});
