/** What `dstack artifacts list` says of a finished job that saved no artifacts. */
import { describe, expect, it } from 'vitest';
import { noneSaved } from '../../src/cli/commands/artifacts.js';
import { makeJob, makeRun } from '../store/fixtures.js';

describe('noneSaved', () => {
  it("shows a failed job's reason with its control characters escaped", () => {
    const run = makeRun('calm-owl-1');
    const job = makeJob(run, 'train', {
      id: 'aaaaaaaaaaaa',
      status: 'FAILED',
      reason: 'runner error: \x1b[2Jgone\nok',
    });
    job.spec.artifacts = ['out'];
    expect(noneSaved(job)).toBe(
      'job aaaaaaaaaaaa declares artifacts (out) but saved none: it FAILED (runner error: \\x1b[2Jgone\\nok) without saving them',
    );
  });
});
