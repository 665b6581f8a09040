/** What `dstack run --dry-run` prints of jobs that would never start. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportNeverStarts } from '../../src/cli/commands/dry-run-fit.js';

describe('reportNeverStarts', () => {
  afterEach(() => vi.restoreAllMocks());

  const printed = (never: Parameters<typeof reportNeverStarts>[0]) => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    reportNeverStarts(never);
    return lines.join('');
  };

  it('says a job would wait on a team server, or fail on the embedded one', () => {
    const never = {
      train: { reason: 'no runner has 2 GPUs', fails: false },
      big: { reason: 'this machine does not have 1 GPU', fails: true },
    };
    expect(printed(never)).toBe(
      'warning: job train would wait: no runner has 2 GPUs\nwarning: job big would fail: this machine does not have 1 GPU\n',
    );
  });
});
