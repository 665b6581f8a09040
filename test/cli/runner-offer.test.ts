/** `dstack runner start`'s warning of --cpu or --memory beyond what the machine has (allowed: docs/decisions.md). */
import { describe, expect, it } from 'vitest';
import { overOfferWarnings } from '../../src/cli/commands/runner-offer.js';

const MACHINE = { cpu: 2, memory: 16e9 };

describe('the warning of a runner offering more than its machine has', () => {
  it('names the flag, what the machine has, and what offering more means', () => {
    expect(overOfferWarnings({ cpu: 1000, memory: 1000e12 }, MACHINE)).toEqual([
      "--cpu 1000 offers more than this machine's 2 CPUs: jobs asking for up to 1000 CPUs run here and share its 2; " +
        'lower --cpu if that is not meant',
      "--memory 1000TB offers more than this machine's 16GB of memory: jobs asking for more than 16GB run " +
        'here and may run out of it; lower --memory if that is not meant',
    ]);
  });

  it('says nothing of flags within the machine, or absent', () => {
    expect(overOfferWarnings({ cpu: 2, memory: 8e9 }, MACHINE)).toEqual([]);
    expect(overOfferWarnings({}, MACHINE)).toEqual([]);
  });
});
