/** What a runner says when the server no longer knows its token: the runner agent's and the one-shot runner's words. */
export function refusedTokenMessage(runner: string): string {
  return (
    `the server refuses the token of runner '${runner}': it was replaced (dstack runners token) or deleted ` +
    '(dstack runners delete)'
  );
}

/** How long a refused runner waits for its aborted jobs to end before it gives up on them, ms. */
export const REFUSED_ABORT_MS = 5_000;
