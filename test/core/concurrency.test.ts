/** keptUnlessFailed: one answer shared, a failure asked again (the Docker engine's cores, say). */
import { describe, expect, it } from 'vitest';
import { keptUnlessFailed } from '../../src/core/concurrency.js';

describe('keptUnlessFailed', () => {
  it('asks once for every caller while the answer is kept, and again after a failure', async () => {
    const answers: (() => Promise<number>)[] = [
      () => Promise.reject(new Error('engine not answering')),
      () => Promise.resolve(16),
    ];
    let asked = 0;
    const cores = keptUnlessFailed(() => answers[asked++]!());
    // Two callers at once share the one failing ask, and both see its failure.
    const [a, b] = await Promise.allSettled([cores(), cores()]);
    expect([a.status, b.status, asked]).toEqual(['rejected', 'rejected', 1]);
    // The failure was not kept: the next call asks again, and that answer is kept.
    expect(await cores()).toBe(16);
    expect(await cores()).toBe(16);
    expect(asked).toBe(2);
  });
});
