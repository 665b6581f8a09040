import { describe, expect, it } from 'vitest';
import { SKEW_MS, runnerClockOffset } from '../../src/server/api/runner-clock.js';

describe('runnerClockOffset', () => {
  it('shifts by the whole difference when the clocks differ by SKEW_MS or more', () => {
    expect(runnerClockOffset(String(1_000_000), 1_000_000 + 7_200_000)).toBe(7_200_000);
    expect(runnerClockOffset(String(1_000_000 + SKEW_MS), 1_000_000)).toBe(-SKEW_MS);
  });

  it('takes a smaller difference for transit, and a missing or odd value for none', () => {
    expect(runnerClockOffset(String(1_000_000), 1_000_000 + SKEW_MS - 1)).toBe(0);
    expect(runnerClockOffset(undefined, 1_000_000)).toBe(0);
    expect(runnerClockOffset('12abc', 1_000_000)).toBe(0);
    expect(runnerClockOffset('', 1_000_000)).toBe(0);
  });
});
