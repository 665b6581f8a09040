/** Scenario 2: a fan-out DAG of trivial jobs (1 → n-2 → 1) on the local runner, as many slots as cores. */
import { join } from 'node:path';
import { Dstack, fanOutWorkflows } from '../peers/dstack.js';
import { fanOutMakefile, make } from '../peers/make.js';
import { fanOutSnakefile, snakemake } from '../peers/snakemake.js';
import { fmtS, fmtX, interleave, med, target, type Row, type Scenario } from '../model.js';
import { tempDir, writeFiles } from '../util.js';

/** Adds a "per job" column: the median spread over the DAG's jobs. */
function perJob(rows: Row[], jobs: number): Row[] {
  for (const r of rows) {
    const m = med(r);
    if (m !== undefined) r.extra = { ...r.extra, 'per job': fmtS(m / jobs) };
  }
  return rows;
}

export const dagRun: Scenario = {
  id: 2,
  title: 'A DAG of trivial jobs (fan-out 1 → n-2 → 1), run from scratch on the local runner',
  async run(ctx) {
    const n = ctx.quick ? 50 : 1000;
    const reps = ctx.reps ?? (ctx.quick ? 2 : 3);
    const slots = ctx.slots;
    const tmp = await tempDir('s2');
    const dstack = await Dstack.create(join(tmp.path, 'dstack'), fanOutWorkflows(n));
    const makeDir = join(tmp.path, 'make');
    const smkDir = join(tmp.path, 'snakemake');
    try {
      const rows = await interleave(
        reps,
        [
          {
            peer: 'dstack run final --no-cache',
            role: 'dstack',
            setup: async () => void (await dstack.cli(['run', 'start'])), // starts the embedded server
            run: async () => (await dstack.cli(['run', 'final', '--no-cache'])).seconds,
          },
          {
            peer: `make -j${slots}`,
            role: 'floor',
            setup: () => writeFiles(makeDir, { Makefile: fanOutMakefile(n) }),
            before: () => tmp.setAside(join(makeDir, 'out')),
            run: async () => (await make(makeDir, slots)).seconds,
          },
          {
            peer: `snakemake --cores ${slots}`,
            role: 'peer',
            setup: () => writeFiles(smkDir, { Snakefile: fanOutSnakefile(n) }),
            before: () => tmp.setAside(join(smkDir, 'out')),
            run: async () => (await snakemake(smkDir, slots)).seconds,
          },
        ],
        ctx.log,
      );
      const [dstackRow, makeRow, smkRow] = rows;
      return {
        id: 2,
        title: this.title,
        size: `${n.toLocaleString('en')} jobs, ${slots} slots${ctx.quick ? ' (--quick; the full run has 1,000 jobs)' : ''}, ${reps} repetitions each`,
        tables: [{ caption: 'run', rows: perJob(rows, n) }],
        targets: [
          target(
            `dstack within 10× of \`make -j${slots}\``,
            [med(dstackRow), med(makeRow)],
            (d, m) => d <= 10 * m,
            (d, m) => `${fmtS(d)} vs ${fmtS(m)}: ${fmtX(d / m)}`,
          ),
          target(
            'dstack at least 10× faster than Snakemake',
            [med(dstackRow), med(smkRow)],
            (d, s) => s >= 10 * d,
            (d, s) => `${fmtS(d)} vs ${fmtS(s)}: Snakemake takes ${fmtX(s / d)} dstack's time`,
          ),
        ],
        notes: [
          `Each job reserves 1 CPU, so the embedded runner runs ${slots} at once (all cores); make and Snakemake get the same ${slots} slots.`,
          'dstack re-runs every job with --no-cache (the server already running); make and Snakemake start each repetition with their outputs deleted.',
        ],
      };
    } finally {
      await dstack.stop();
      await tmp.cleanup();
    }
  },
};
