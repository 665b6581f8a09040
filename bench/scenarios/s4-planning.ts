/** Scenario 4: planning a 10,000-job DAG without running it (no server), with peak memory. */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, Dstack, fanOutWorkflows } from '../peers/dstack.js';
import { fanOutMakefile } from '../peers/make.js';
import { fanOutSnakefile } from '../peers/snakemake.js';
import { fmtS, fmtX, interleave, med, target, type Measure, type Role, type Scenario } from '../model.js';
import { exec, median, tempDir, writeFiles, type ExecOptions } from '../util.js';

/** Runs a command under `/usr/bin/time` for its peak resident memory; returns seconds and MiB. */
async function timed(
  command: string,
  args: string[],
  options: ExecOptions,
  rssFile: string,
): Promise<{ seconds: number; rssMiB: number }> {
  const r = await exec('/usr/bin/time', ['-f', '%M', '-o', rssFile, command, ...args], options);
  const kb = Number((await readFile(rssFile, 'utf8')).trim().split('\n').pop());
  return { seconds: r.seconds, rssMiB: kb / 1024 };
}

/** A measure run under /usr/bin/time, with its median peak memory as a column. */
function withMemory(
  peer: string,
  role: Role,
  setup: (() => Promise<void>) | undefined,
  command: () => [string, string[], ExecOptions],
  rssFile: string,
  before?: () => Promise<void>,
): Measure {
  const rss: number[] = [];
  return {
    peer,
    role,
    ...(setup ? { setup } : {}),
    ...(before ? { before } : {}),
    run: async () => {
      const [cmd, args, options] = command();
      const r = await timed(cmd, args, options, rssFile);
      rss.push(r.rssMiB);
      return r.seconds;
    },
    extra: () => ({ 'peak RSS': `${median(rss).toFixed(0)} MiB` }),
  };
}

export const planning: Scenario = {
  id: 4,
  title: 'Planning a DAG without running it (dry run, no server)',
  async run(ctx) {
    const n = ctx.quick ? 2000 : 10_000;
    const reps = ctx.reps ?? (ctx.quick ? 2 : 5);
    const tmp = await tempDir('s4');
    const rss = join(tmp.path, 'rss.txt');
    const notes = ['Peak memory is the maximum resident set size from `/usr/bin/time -f %M`.'];
    try {
      const dstack = await Dstack.create(join(tmp.path, 'dstack'), fanOutWorkflows(n));
      const smkDir = join(tmp.path, 'snakemake');
      const makeDir = join(tmp.path, 'make');
      // Kept between calls, the CLI's read of the file (plain-cache.ts) spares js-yaml's: the
      // target is on a first read, as after an edit; a second row shows the file read again.
      const dryRun = (): [string, string[], ExecOptions] => [
        BIN,
        ['run', 'final', '--dry-run'],
        { cwd: dstack.project, env: dstack.env() },
      ];
      const forget = () => rm(join(dstack.home, 'cache'), { recursive: true, force: true });
      const rows = await interleave(
        reps,
        [
          withMemory('dstack run final --dry-run (the file not read before)', 'dstack', undefined, dryRun, rss, forget),
          withMemory(
            'dstack run final --dry-run (the file read before)',
            'info',
            async () => void (await exec(...dryRun())),
            dryRun,
            rss,
          ),
          withMemory(
            'snakemake -n',
            'peer',
            () => writeFiles(smkDir, { Snakefile: fanOutSnakefile(n) }),
            () => ['snakemake', ['-n', '--cores', '1', '--quiet'], { cwd: smkDir }],
            rss,
          ),
          withMemory(
            'make -n',
            'info',
            () => writeFiles(makeDir, { Makefile: fanOutMakefile(n) }),
            () => ['make', ['-n'], { cwd: makeDir }],
            rss,
          ),
        ],
        ctx.log,
      );
      const [dstackRow, , smkRow] = rows;
      // The dry run must not have started a server: then it planned alone, as this scenario means.
      if (existsSync(join(dstack.home, 'server', 'server.json'))) {
        notes.push('dstack --dry-run started a local server: the timing includes it.');
        await dstack.stop();
      }
      return {
        id: 4,
        title: this.title,
        size: `${n.toLocaleString('en')} jobs${ctx.quick ? ' (--quick; the full run has 10,000)' : ''}, ${reps} repetitions each`,
        tables: [{ caption: 'dry run', rows }],
        targets: [
          target(
            'dstack at least 5× faster than Snakemake',
            [med(dstackRow), med(smkRow)],
            (d, s) => s >= 5 * d,
            (d, s) => `${fmtS(d)} vs ${fmtS(s)}: Snakemake takes ${fmtX(s / d)} dstack's time`,
          ),
        ],
        notes,
      };
    } finally {
      await tmp.cleanup();
    }
  },
};
