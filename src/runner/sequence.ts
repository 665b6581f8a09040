/**
 * Executions one after another as one (a virtualenv's setup, then the script): stop and
 * abort reach whichever runs, and the first that fails or is stopped ends the sequence.
 */
import type { Execution, ExitResult } from './executors/executor.js';

/** The next execution, or undefined when there is nothing to do for this step. */
export type Step = () => Promise<Execution | undefined>;

export async function sequence(steps: readonly Step[]): Promise<Execution> {
  let current: Execution | undefined;
  let signalled: 'terminate' | 'kill' | undefined;
  let index = 0;
  // The first step that has work starts before this returns, as a single execution would.
  while (current === undefined && index < steps.length) current = await steps[index++]!();
  const exit = (async (): Promise<ExitResult> => {
    let result: ExitResult = current ? await current.exit : { code: 0, signal: null };
    while (index < steps.length && result.code === 0 && signalled === undefined) {
      const next = await steps[index++]!();
      if (next === undefined) continue;
      current = next;
      // A stop that came while this step was starting.
      if (signalled === 'kill') next.kill();
      else if (signalled === 'terminate') next.terminate();
      result = await next.exit;
    }
    return result;
  })();
  return {
    get pid() {
      return current?.pid;
    },
    exit,
    terminate() {
      signalled ??= 'terminate';
      current?.terminate();
    },
    kill() {
      signalled = 'kill';
      current?.kill();
    },
  };
}

/** The same execution, its exit result passed through `map` (to give a failure its reason). */
export function mapExit(execution: Execution, map: (result: ExitResult) => ExitResult): Execution {
  return withExit(execution, execution.exit.then(map));
}

/** The same execution (its pid, its signals), ending with `exit`: its own exit and what follows it. */
export function withExit(execution: Execution, exit: Promise<ExitResult>): Execution {
  return {
    get pid() {
      return execution.pid;
    },
    exit,
    terminate: () => execution.terminate(),
    kill: () => execution.kill(),
  };
}
