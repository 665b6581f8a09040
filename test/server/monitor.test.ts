/** Lost runners, on the real engine over a real SQLite store. */
import { describe, expect, it } from 'vitest';
import { RETRY_MAX_DELAY_MS } from '../../src/core/api.js';
import { checkRunners, startMonitor } from '../../src/server/monitor.js';
import { engineWith } from './engine-fixture.js';

async function runningOn(lastHeard: number) {
  const { engine } = await engineWith([['aaaaaaaaaaaa', 'RUNNING', []]]);
  await engine.store.upsertRunner({
    name: 'r1',
    host: 'h',
    total: { cpu: 4, memory: 1 << 30, gpus: [] },
    status: 'ACTIVE',
    updatedAt: lastHeard,
    registeredAt: lastHeard,
  });
  await engine.store.updateJob('aaaaaaaaaaaa', 'RUNNING', { runner: 'r1' });
  return engine;
}

describe('checkRunners', () => {
  it("fails a silent runner's jobs as 'runner lost'", async () => {
    const now = Date.now();
    const engine = await runningOn(now - 10_000);
    await checkRunners(engine, 2_000, now);
    expect((await engine.store.getRunner('r1'))!.status).toBe('LOST');
    expect(await engine.store.getJob('aaaaaaaaaaaa')).toMatchObject({ status: 'FAILED', reason: 'runner lost' });
  });

  it('counts silence from its own start: runners could not reach a server that was down', async () => {
    const now = Date.now();
    const engine = await runningOn(now - 60_000);
    await checkRunners(engine, 2_000, now, now - 1_000);
    expect((await engine.store.getRunner('r1'))!.status).toBe('ACTIVE');
    // Once a retrying runner has had its longest wait and the timeout, it is lost.
    await checkRunners(engine, 2_000, now + RETRY_MAX_DELAY_MS + 2_001, now);
    expect((await engine.store.getRunner('r1'))!.status).toBe('LOST');
  });

  it("takes a pause of the server itself (a laptop asleep) for no runner's silence", { timeout: 20_000 }, async () => {
    const engine = await runningOn(Date.now());
    const stop = startMonitor(engine, { runnerTimeoutMs: 1_000, intervalMs: 100 });
    try {
      // Past the grace a server gives runners after its start, the runner heartbeats...
      for (const until = Date.now() + RETRY_MAX_DELAY_MS + 500; Date.now() < until;) {
        await engine.store.heartbeat('r1', Date.now());
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await engine.store.getRunner('r1'))!.status).toBe('ACTIVE');
      // ...until the whole process stands still, its timers and its runner's heartbeats too.
      const pausedUntil = Date.now() + 1_500;
      while (Date.now() < pausedUntil);
      await new Promise((r) => setTimeout(r, 300)); // a few checks after it wakes
      expect((await engine.store.getRunner('r1'))!.status).toBe('ACTIVE');
      expect((await engine.store.getJob('aaaaaaaaaaaa'))!.status).toBe('RUNNING');
    } finally {
      stop();
    }
  });
});
