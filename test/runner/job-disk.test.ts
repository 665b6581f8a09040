/** A job's failure reason in the runner: a step's own words, a full disk no step explained, or a runner error. */
import { describe, expect, it } from 'vitest';
import { StorageFullError, UsageError } from '../../src/core/errors.js';
import { failureReason } from '../../src/runner/job-disk.js';

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('failureReason', () => {
  it("keeps what a step said, a full disk's included", () => {
    expect(failureReason(new UsageError("no image 'x'"), '/w')).toBe("no image 'x'");
    const said = new StorageFullError('the disk holding /w/jobs/1 is full (no space left on device) while saving');
    expect(failureReason(said, '/w')).toBe(said.message);
  });

  it("names the runner's work dir for a full disk no step explained, by its code or a worker's message", () => {
    expect(failureReason(enospc(), '/w')).toBe("the runner's disk is full (work dir /w)");
    const fromWorker = new Error('copy failed', { cause: new Error('ENOSPC: no space left on device, write') });
    expect(failureReason(fromWorker, '/w')).toBe("the runner's disk is full (work dir /w)");
  });

  it('calls anything else a runner error', () => {
    expect(failureReason(new Error('boom'), '/w')).toBe('runner error: boom');
  });
});
