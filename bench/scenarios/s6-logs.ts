/** Scenario 6: a job writing a lot to stdout, end to end, and reading its log back. */
import { join } from 'node:path';
import { Dstack } from '../peers/dstack.js';
import { fmtS, fmtX, interleave, med, target, type Measure, type Role, type Row, type Scenario } from '../model.js';
import { median, sh, tempDir, type ExecResult } from '../util.js';

/** A measure keeping its runs, with their stdout throughput and size as columns. */
function streamed(peer: string, role: Role, once: () => Promise<ExecResult>, setup?: () => Promise<void>): Measure {
  const runs: ExecResult[] = [];
  return {
    peer,
    role,
    ...(setup ? { setup } : {}),
    run: async () => {
      const r = await once();
      runs.push(r);
      return r.seconds;
    },
    // Nothing on stdout (the command wrote a file): no throughput to show.
    extra: (): Record<string, string> =>
      runs.every((r) => r.stdoutBytes === 0)
        ? {}
        : {
            'MB/s': median(runs.map((r) => r.stdoutBytes / 1e6 / r.seconds)).toFixed(0),
            'bytes out': median(runs.map((r) => r.stdoutBytes)).toLocaleString('en'),
          },
  };
}

export const logs: Scenario = {
  id: 6,
  title: 'Logs: a job writing a lot to stdout, and reading its log back',
  async run(ctx) {
    const mb = ctx.quick ? 10 : 100;
    const bytes = mb * 1_000_000;
    const reps = ctx.reps ?? (ctx.quick ? 2 : 3);
    // 100-byte lines; head reads a process substitution so that `pipefail` does not see yes's SIGPIPE.
    const writer = `head -c ${bytes} <(yes "$(printf %099d 0)")`;
    const tmp = await tempDir('s6');
    const dstack = await Dstack.create(
      join(tmp.path, 'dstack'),
      `workflows:\n  - name: noop\n    commands: ["true"]\n  - name: logs\n    commands:\n      - '${writer}'\n`,
    );
    const file = join(tmp.path, 'out.log');
    try {
      const [e2e, toFile, toPipe] = await interleave(
        reps,
        [
          streamed(
            'dstack run logs --no-cache',
            'dstack',
            () => dstack.cli(['run', 'logs', '--no-cache']),
            async () => void (await dstack.cli(['run', 'noop'])), // starts the embedded server
          ),
          streamed('the same command writing to a file', 'floor', () => sh(`${writer} > '${file}'`)),
          streamed('the same command writing to a pipe (read by the harness)', 'info', () => sh(writer)),
        ],
        ctx.log,
      );
      let job = '';
      const [readBack, cat] = await interleave(reps, [
        streamed(
          'dstack logs JOB',
          'dstack',
          () => dstack.cli(['logs', job]),
          async () => void (job = await dstack.jobId('logs')),
        ),
        streamed('cat FILE', 'floor', () => sh(`cat '${file}'`)),
      ]);
      const mbps = (r: Row | undefined) => r?.extra?.['MB/s'] ?? '—';
      return {
        id: 6,
        title: this.title,
        size: `${mb} MB in 100-byte lines${ctx.quick ? ' (--quick; the full run has 100 MB)' : ''}, ${reps} repetitions each`,
        tables: [
          { caption: 'end to end: run the job, stream its log to the terminal', rows: [e2e!, toFile!, toPipe!] },
          { caption: 'read-back of the whole log', rows: [readBack!, cat!] },
        ],
        targets: [
          target(
            'end to end within 1.5× of the floor (writing to a file)',
            [med(e2e), med(toFile)],
            (d, f) => d <= 1.5 * f,
            (d, f) => `${fmtS(d)} vs ${fmtS(f)}: ${fmtX(d / f)}`,
          ),
        ],
        notes: [
          `Read-back throughput of \`dstack logs\`: ${mbps(readBack)} MB/s (cat: ${mbps(cat)} MB/s); reported, no target.`,
          "The CLI's output is read by the harness (a pipe) and dropped, as a terminal would take it.",
        ],
      };
    } finally {
      await dstack.stop();
      await tmp.cleanup();
    }
  },
};
