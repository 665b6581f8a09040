/** Scenario 1: one trivial job end to end from the CLI, the local server already running. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Dstack } from '../peers/dstack.js';
import { oneRuleSnakefile, snakemake } from '../peers/snakemake.js';
import { fmtS, fmtX, interleave, med, target, type Scenario } from '../model.js';
import { cleanEnv, exec, sh, tempDir, writeFiles } from '../util.js';

/**
 * Set on some machines (this project's CI sandbox among them) for every process: each Node
 * start then parses the CA bundle, about 35 ms here. bin/dstack defers it to the CLI's first
 * TLS connection (src/cli/deferred-ca.ts); `node -e 0` pays it. The target's rows keep the
 * machine's environment; rows without it show both where the variable is not set.
 */
const EXTRA_CA = 'NODE_EXTRA_CA_CERTS';

export const trivialJob: Scenario = {
  id: 1,
  title: 'One trivial job (`echo hi`) end to end from the CLI',
  async run(ctx) {
    const reps = ctx.reps ?? (ctx.quick ? 3 : 20);
    const tmp = await tempDir('s1');
    const dstack = await Dstack.create(
      join(tmp.path, 'dstack'),
      'workflows:\n  - name: hi\n    commands: ["echo hi"]\n',
    );
    const smk = join(tmp.path, 'snakemake');
    try {
      const withoutCa = (env: NodeJS.ProcessEnv) => {
        delete env[EXTRA_CA];
        return env;
      };
      const caRows = process.env[EXTRA_CA] !== undefined;
      const [dstackRow, smkRow, bashRow, nodeRow, versionRow, dstackBareRow, nodeBareRow] = await interleave(
        reps,
        [
          {
            peer: 'dstack run hi --no-cache',
            role: 'dstack',
            // The first run starts the embedded server; --no-cache makes each timed run really run the job.
            setup: async () => void (await dstack.cli(['run', 'hi'])),
            run: async () => (await dstack.cli(['run', 'hi', '--no-cache'])).seconds,
          },
          {
            peer: 'snakemake -j1 (one rule)',
            role: 'peer',
            setup: async () => {
              await writeFiles(smk, { Snakefile: oneRuleSnakefile() });
              await snakemake(smk, 1); // warm-up: Python's byte-code cache, .snakemake/
            },
            before: () => rm(join(smk, 'out'), { recursive: true, force: true }),
            run: async () => (await snakemake(smk, 1)).seconds,
          },
          { peer: "bash -c 'echo hi'", role: 'floor', run: async () => (await sh('echo hi')).seconds },
          { peer: 'node -e 0', role: 'floor', run: async () => (await exec(process.execPath, ['-e', '0'])).seconds },
          {
            peer: 'dstack --version (CLI start-up alone)',
            role: 'info',
            run: async () => (await dstack.cli(['--version'])).seconds,
          },
          ...(caRows
            ? ([
                {
                  peer: `dstack run hi --no-cache (without ${EXTRA_CA})`,
                  role: 'info',
                  run: async () =>
                    (await dstack.cli(['run', 'hi', '--no-cache'], { env: withoutCa(dstack.env()) })).seconds,
                },
                {
                  peer: `node -e 0 (without ${EXTRA_CA})`,
                  role: 'info',
                  run: async () => (await exec(process.execPath, ['-e', '0'], { env: withoutCa(cleanEnv()) })).seconds,
                },
              ] as const)
            : []),
        ],
        ctx.log,
      );
      return {
        id: 1,
        title: this.title,
        size: `1 job, ${reps} repetitions each`,
        tables: [
          {
            caption: 'end to end',
            rows: [
              dstackRow!,
              smkRow!,
              bashRow!,
              nodeRow!,
              versionRow!,
              ...(caRows ? [dstackBareRow!, nodeBareRow!] : []),
            ],
          },
        ],
        targets: [
          target(
            'dstack within 3× of `node -e 0`',
            [med(dstackRow), med(nodeRow)],
            (d, n) => d <= 3 * n,
            (d, n) => `${fmtS(d)} vs ${fmtS(n)}: ${fmtX(d / n)}`,
          ),
        ],
        notes: [
          'dstack: `dstack run hi --no-cache` against the embedded server started by an untimed first run; its output is read and dropped.',
          ...(caRows ? [caNote(med(dstackBareRow), med(nodeBareRow))] : []),
        ],
      };
    } finally {
      await dstack.stop();
      await tmp.cleanup();
    }
  },
};

function caNote(dstack: number | undefined, node: number | undefined): string {
  const ratio =
    dstack !== undefined && node !== undefined ? `: ${fmtS(dstack)} vs ${fmtS(node)}, ${fmtX(dstack / node)}` : '';
  return (
    `${EXTRA_CA} is set on this machine, so a Node start reads and parses that CA bundle first; ` +
    'bin/dstack leaves it to the first TLS connection (src/cli/deferred-ca.ts), `node -e 0` does not. ' +
    `The target is judged in the machine's environment; the rows without it compare dstack and \`node -e 0\` where it is not set${ratio}.`
  );
}
