/** How a runner's token came to be refused, and the command that did it: said wherever a runner meets the refusal. */
export const TOKEN_REFUSED_WHY = 'replaced (dstack runners token) or deleted (dstack runners delete)';

/** What a runner says when the server no longer knows its token: the runner agent's and the one-shot runner's words. */
export function refusedTokenMessage(runner: string): string {
  return `the server refuses the token of runner '${runner}': it was ${TOKEN_REFUSED_WHY}`;
}

/** How long a refused runner waits for its aborted jobs to end before it gives up on them, ms. */
export const REFUSED_ABORT_MS = 5_000;
