/** The engine's own fields on a transition, on the real engine over a real SQLite store. */
import { describe, expect, it } from 'vitest';
import { engineWith } from './engine-fixture.js';

describe('Engine.transition', () => {
  it('drops why a job waited once it runs, and stamps its start', async () => {
    const { engine } = await engineWith([['aaaaaaaaaaaa', 'SUBMITTED', []]]);
    await engine.update('aaaaaaaaaaaa', 'SUBMITTED', { reason: 'slurm 12: PENDING (Resources)' });
    await engine.transition('aaaaaaaaaaaa', 'SUBMITTED', 'DOWNLOADING', { runner: 'slurm' }, 'test');
    expect((await engine.store.getJob('aaaaaaaaaaaa'))!.reason).toBe('slurm 12: PENDING (Resources)');
    await engine.transition('aaaaaaaaaaaa', 'DOWNLOADING', 'RUNNING', {}, 'test');
    const running = (await engine.store.getJob('aaaaaaaaaaaa'))!;
    expect(running.reason).toBeUndefined();
    expect(running.startedAt).toBeGreaterThan(0);
  });
});
