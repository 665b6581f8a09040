/** The one-shot runner's heartbeat ends with its job: nothing of it holds the process (and its Slurm job) open. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunnerClient } from '../../src/client/runner-client.js';
import { createLogger } from '../../src/logger.js';
import { heartbeatLoop, type OneShotOptions } from '../../src/runner/one-shot.js';
import type { JobRun } from '../../src/runner/job-run.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('one-shot heartbeat', () => {
  it("ends as soon as the job's end aborts it, not after the pause that follows the server's answer", async () => {
    vi.useFakeTimers();
    const stop = new AbortController();
    // The port below the loop: the server answers at once once the job has ended (an abort for it).
    const heartbeat = vi.fn(async () => [{ jobId: 'job1', action: 'abort' as const }]);
    const requests: string[] = [];
    const client = { heartbeat } as unknown as RunnerClient;
    const run = { id: 'job1', request: (action: string) => requests.push(action) } as unknown as JobRun;
    const options = { logger: createLogger('test', 'error') } as unknown as OneShotOptions;
    let ended = false;
    const loop = heartbeatLoop(client, 'slurm', run, stop.signal, options).then(() => (ended = true));
    await vi.advanceTimersByTimeAsync(0); // the answer arrived; the loop pauses before asking again
    expect(requests).toEqual(['abort']);
    expect(ended).toBe(false);
    stop.abort();
    await vi.advanceTimersByTimeAsync(0); // no clock moves: only the abort can end the pause
    expect(ended).toBe(true);
    expect(heartbeat).toHaveBeenCalledTimes(1);
    await loop;
  });
});
