/**
 * A one-shot runner (`dstack runner exec`) killed inside its Slurm allocation. Slurm ends the
 * batch job with it, but with proctrack/linuxproc (scripts/slurm.sh's cluster, and any without
 * cgroups) it finds a job's processes through their parents: once the runner is gone they are
 * init's, out of its sight, and ran on. The runner's guard helper ends them as a stop does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinished } from '../../src/core/job-status.js';
import type { JobRecord, RunView } from '../../src/core/records.js';
import { jobProcesses } from '../services/processes.js';
import { ensureSlurm, skipSlurm } from '../services/slurm.js';
import { Sandbox, waitUntil } from './harness.js';
import { DstackServer } from './slurm-harness.js';

/** The pids whose command line has every one of `words` as an argument. */
function processesWith(words: string[]): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return words.every((w) => args.includes(w));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.skipIf(skipSlurm)('a one-shot runner killed inside its Slurm allocation', () => {
  let sb: Sandbox;
  let server: DstackServer;
  let job: JobRecord | undefined;

  beforeAll(async () => {
    await ensureSlurm();
    sb = await Sandbox.create();
    // Quiet: no write to a closed output would end it.
    await sb.write({
      '.dstack/workflows.yaml': `workflows:
  - name: quiet
    commands:
      - echo started
      - sleep 300
`,
    });
    server = await DstackServer.create(); // its runners' stop grace: 5 s
    await server.start('slurm');
  }, 300_000);
  afterAll(async () => {
    for (const pid of job ? jobProcesses(job.id) : []) process.kill(pid, 'SIGKILL');
    await server?.stop();
    await sb?.dispose();
  });

  it('ends its job as a stop does, and the server records the job ended', { timeout: 120_000 }, async () => {
    const env = { env: server.env() };
    const submitted = await sb.dstack(['run', 'quiet', '-d'], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const name = submitted.stdout.trim();
    const view = async () => JSON.parse((await sb.dstack(['status', name, '--json'], env)).stdout) as RunView[];
    await waitUntil(async () => (await sb.dstack(['logs', name], env)).stdout.includes('started'), 60_000);
    job = (await view())[0]!.jobs[0]!;
    expect(jobProcesses(job.id)).not.toEqual([]);

    const [runner] = processesWith(['exec', '--job', job.id]);
    expect(runner).toBeDefined();
    process.kill(runner!, 'SIGKILL');
    await waitUntil(async () => jobProcesses(job!.id).length === 0, 15_000);
    const ended = await waitUntil(async () => {
      const j = (await view())[0]!.jobs[0]!;
      return isFinished(j.status) && j;
    }, 30_000);
    expect(ended.status).toBe('FAILED');
  });
});
