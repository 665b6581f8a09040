/** `dstack runner start`'s warning that host jobs of every user run as its own Unix user, where others reach the server. */
import { describe, expect, it } from 'vitest';
import { hostJobsWarning } from '../../src/cli/commands/runner.js';

const ALICE = { uid: 1001, username: 'alice' };

describe('the warning of a runner that runs host jobs', () => {
  it('names the user they run as, and --no-host-jobs, for a server others can reach', () => {
    expect(hostJobsWarning('http://10.0.0.5:3000', true, ALICE)).toBe(
      "host jobs (those without an 'image:') of every user of this server run here as uid 1001 (alice), so each " +
        "can read the others' files and this runner's token: for users who do not trust each other, start runners " +
        "with --no-host-jobs (jobs with an 'image:' only)",
    );
    expect(hostJobsWarning('https://dstack.example.com', true, ALICE)).toContain('uid 1001 (alice)');
  });

  it('is not given with --no-host-jobs, nor for a server on a loopback address (only this machine reaches it)', () => {
    expect(hostJobsWarning('http://10.0.0.5:3000', false, ALICE)).toBeUndefined();
    for (const url of ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000', 'http://127.1.2.3'])
      expect(hostJobsWarning(url, true, ALICE), url).toBeUndefined();
  });
});
