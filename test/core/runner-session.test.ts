import { describe, expect, it } from 'vitest';
import type { RunnerRecord } from '../../src/core/records.js';
import { heldByAnother } from '../../src/core/runner-session.js';

const runner = (fields: Partial<RunnerRecord> = {}): RunnerRecord => ({
  name: 'r',
  host: 'h',
  total: { cpu: 1, memory: 0, gpus: [] },
  status: 'ACTIVE',
  updatedAt: 100_000,
  registeredAt: 0,
  session: 'a',
  ...fields,
});

describe('heldByAnother', () => {
  it('holds the name for the registered process while it is ACTIVE and heard within the timeout', () => {
    expect(heldByAnother(runner(), 'b', 110_000, 10_000, 0)).toBe(true);
    expect(heldByAnother(runner(), undefined, 110_000, 10_000, 0)).toBe(true);
    expect(heldByAnother(runner(), 'b', 110_001, 10_000, 0)).toBe(false); // silent past it: a crash
  });

  it('never holds it against its own process, or once the runner is OFFLINE or LOST, or never registered', () => {
    expect(heldByAnother(runner(), 'a', 100_000, 10_000, 0)).toBe(false);
    expect(heldByAnother(runner({ session: undefined }), undefined, 100_000, 10_000, 0)).toBe(false);
    expect(heldByAnother(runner({ status: 'OFFLINE' }), 'b', 100_000, 10_000, 0)).toBe(false);
    expect(heldByAnother(runner({ status: 'LOST' }), 'b', 100_000, 10_000, 0)).toBe(false);
    expect(heldByAnother(undefined, 'b', 100_000, 10_000, 0)).toBe(false);
  });

  it("counts silence from the server's start (plus a retry's wait) at the earliest", () => {
    expect(heldByAnother(runner({ updatedAt: 0 }), 'b', 200_000, 10_000, 195_000)).toBe(true);
    expect(heldByAnother(runner({ updatedAt: 0 }), 'b', 215_001, 10_000, 195_000)).toBe(false);
  });
});
