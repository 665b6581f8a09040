/** Snakemake as a peer: the same jobs as rules writing files. */
import { exec, type ExecOptions, type ExecResult } from '../util.js';

export function oneRuleSnakefile(): string {
  return ['rule hi:', '    output: "out/hi.txt"', '    shell: "echo hi > {output}"', ''].join('\n');
}

/** start → j1..j(n-2) → final, as in the dstack and make versions. */
export function fanOutSnakefile(n: number): string {
  return [
    `N = ${n - 2}`,
    'rule final:',
    '    input: expand("out/j{i}.txt", i=range(1, N + 1))',
    '    output: "out/final.txt"',
    '    shell: "echo final > {output}"',
    'rule job:',
    '    input: "out/start.txt"',
    '    output: "out/j{i}.txt"',
    '    shell: "echo j{wildcards.i} > {output}"',
    'rule start:',
    '    output: "out/start.txt"',
    '    shell: "echo start > {output}"',
    '',
  ].join('\n');
}

/** `snakemake --cores N -q [ARGS]` in `cwd`. */
export function snakemake(
  cwd: string,
  cores: number,
  args: string[] = [],
  options: ExecOptions = {},
): Promise<ExecResult> {
  return exec('snakemake', ['--cores', String(cores), '--quiet', ...args], { cwd, ...options });
}
