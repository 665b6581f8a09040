/** Scenario 3: the DAG of scenario 2 run again with everything up to date (cached). */
import { join } from 'node:path';
import { Dstack, fanOutWorkflows } from '../peers/dstack.js';
import { fanOutMakefile, make } from '../peers/make.js';
import { fanOutSnakefile, snakemake } from '../peers/snakemake.js';
import { fmtS, interleave, med, target, type Scenario } from '../model.js';
import { tempDir, writeFiles } from '../util.js';

export const dagCached: Scenario = {
  id: 3,
  title: 'The same DAG re-run with everything cached (a no-op)',
  async run(ctx) {
    const n = ctx.quick ? 50 : 1000;
    const reps = ctx.reps ?? (ctx.quick ? 2 : 10);
    const slots = ctx.slots;
    const tmp = await tempDir('s3');
    const dstack = await Dstack.create(join(tmp.path, 'dstack'), fanOutWorkflows(n));
    const makeDir = join(tmp.path, 'make');
    const smkDir = join(tmp.path, 'snakemake');
    try {
      const rows = await interleave(
        reps,
        [
          {
            peer: 'dstack run final (all cached)',
            role: 'dstack',
            setup: async () => {
              ctx.log(`dstack: the first, untimed run of the ${n} jobs`);
              await dstack.cli(['run', 'final']);
            },
            run: async () => (await dstack.cli(['run', 'final'])).seconds,
          },
          {
            peer: `make -j${slots} (nothing to do)`,
            role: 'floor',
            setup: async () => {
              await writeFiles(makeDir, { Makefile: fanOutMakefile(n) });
              await make(makeDir, slots);
            },
            run: async () => (await make(makeDir, slots)).seconds,
          },
          {
            peer: `snakemake --cores ${slots} (nothing to do)`,
            role: 'peer',
            setup: async () => {
              await writeFiles(smkDir, { Snakefile: fanOutSnakefile(n) });
              ctx.log(`snakemake: the first, untimed run of the ${n} jobs`);
              await snakemake(smkDir, slots);
            },
            run: async () => (await snakemake(smkDir, slots)).seconds,
          },
        ],
        ctx.log,
      );
      return {
        id: 3,
        title: this.title,
        size: `${n.toLocaleString('en')} jobs${ctx.quick ? ' (--quick; the full run has 1,000 jobs)' : ''}, ${reps} repetitions each`,
        tables: [{ caption: 'no-op re-run', rows }],
        targets: [
          target(
            'dstack under 0.3 s',
            [med(rows[0])],
            (d) => d < 0.3,
            (d) => fmtS(d),
          ),
        ],
        notes: [
          'dstack: a new run whose jobs are all reused from the cache (DONE, "cached"), the embedded server already running.',
          "The file is unchanged since the last call, so the CLI uses what it read from it then (`$DSTACK_HOME/cache/yaml`), not js-yaml's read.",
        ],
      };
    } finally {
      await dstack.stop();
      await tmp.cleanup();
    }
  },
};
