/**
 * A runner's clock against the server's. Log entries carry the time the runner read them, by
 * its clock; a runner whose clock is off (a VM restored from a snapshot, a machine without
 * NTP) would file its lines hours away from the rest of the run, and `dstack logs --since 5m`
 * would leave out a job that ran a minute ago. The runner sends the time by its clock as it
 * sends a batch (`?sent=MS`); the server shifts the entries by how far that is from the time
 * the request reached it. Under SKEW_MS the difference is taken for transit, not a clock:
 * clocks kept by NTP agree to milliseconds, and a batch delayed in transit keeps its times.
 */

/** Differences under this are transit, not a clock that is off, ms. */
export const SKEW_MS = 5_000;

/** How much to add to the runner's times: `receivedAt - sentAt`, or 0 when under SKEW_MS or not told. */
export function runnerClockOffset(sent: string | undefined, receivedAt: number): number {
  if (sent === undefined || !/^\d{1,16}$/.test(sent)) return 0;
  const offset = receivedAt - Number(sent);
  return Math.abs(offset) < SKEW_MS ? 0 : offset;
}
