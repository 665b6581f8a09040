/** GNU make as a peer: the same fan-out DAG as files, the floor for running trivial jobs. */
import { exec, type ExecResult } from '../util.js';

/** start → j1..j(n-2) → final, each job writing its own file under out/. */
export function fanOutMakefile(n: number): string {
  const middle = Array.from({ length: n - 2 }, (_, i) => `out/j${i + 1}.txt`);
  return [
    `out/final.txt: ${middle.join(' ')}`,
    '\t@echo final > $@',
    'out/j%.txt: out/start.txt',
    '\t@echo j$* > $@',
    'out/start.txt:',
    '\t@mkdir -p out && echo start > $@',
    '',
  ].join('\n');
}

export function make(cwd: string, jobs: number): Promise<ExecResult> {
  return exec('make', [`-j${jobs}`, '--no-print-directory'], { cwd });
}
