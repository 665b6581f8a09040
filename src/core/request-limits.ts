/**
 * Bounds of the values a request carries that a user types as a flag: the server checks the
 * request, and the CLI the flag, with one rule, so a refusal names the range either way.
 */

/** `dstack stop --grace`, in seconds: at most a day. */
export const MAX_STOP_GRACE_S = 86_400;
export const STOP_GRACE_RULE = `seconds from 0 to ${MAX_STOP_GRACE_S} (a day)`;

/**
 * A stop's grace as a user writes it (`--grace`, `DSTACK_STOP_GRACE`): decimal seconds within
 * the bound, else undefined. `Number` alone would take `0x10` as 16, `1e3` as 1000, `10s` as NaN.
 */
export function stopGraceSeconds(text: string): number | undefined {
  const seconds = Number(text);
  return /^\d+(\.\d+)?$/.test(text) && seconds <= MAX_STOP_GRACE_S ? seconds : undefined;
}

/** `dstack status --last`: runs listed at most. */
export const MAX_LISTED_RUNS = 10_000;
export const LISTED_RUNS_RULE = `a whole number from 1 to ${MAX_LISTED_RUNS}`;

/** `dstack prune --older-than`: a hundred years, past which no run is anyway. */
export const MAX_PRUNE_AGE_DAYS = 36_500;
export const MAX_PRUNE_AGE_MS = MAX_PRUNE_AGE_DAYS * 86_400_000;
export const PRUNE_AGE_RULE = `whole milliseconds from 0 to ${MAX_PRUNE_AGE_MS} (${MAX_PRUNE_AGE_DAYS} days)`;
