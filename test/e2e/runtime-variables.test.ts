/**
 * `$run_name`, `$job_id` and dstack's DSTACK_* settings wherever a job reads them, through the
 * real CLI: in `environment:` and `artifacts:`, on the runner's host and in a container alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { useDockerEnvironment } from './docker-env.js';
import { Sandbox } from './harness.js';

/** One workflow per place a job runs: the same fields, the same output expected of both. */
const workflow = (name: string, image?: string) => `
  - name: ${name}
${image ? `    image: ${image}\n` : ''}    environment:
      WANDB_NAME: run-$DSTACK_RUN_NAME
      CKPT: ckpt/\${run_name}
      JOB: job-\${{ job_id }}
      FROM: $DSTACK_WORKFLOW
    commands:
      - echo "WANDB_NAME=$WANDB_NAME CKPT=$CKPT JOB=$JOB FROM=$FROM"
      - mkdir -p out/$run_name && echo x > out/$run_name/f
    artifacts:
      - out/$run_name
`;

describe('runtime variables in environment and artifacts', () => {
  let sb: Sandbox;
  let restore: () => void;

  beforeAll(async () => {
    restore = await useDockerEnvironment();
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': `workflows:${workflow('host')}${workflow('box', 'dstack-test/busybox')}`,
    });
  }, 900_000);
  afterAll(async () => {
    await sb?.dispose();
    restore?.();
  });

  for (const name of ['host', 'box']) {
    it(`fills them in for a job ${name === 'host' ? "on the runner's host" : 'in a container'}`, async () => {
      const r = await sb.dstack(['run', name]);
      expect(r.code, r.stderr).toBe(0);
      const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
      const job = run!.jobs[0]!;
      expect(r.stdout).toContain(`WANDB_NAME=run-${run!.name} CKPT=ckpt/${run!.name} JOB=job-${job.id} FROM=${name}\n`);
      expect(r.stdout).not.toContain('does not exist');
      const listed = await sb.dstack(['artifacts', job.id]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain(`out/${run!.name}/f`);
    });
  }
});
