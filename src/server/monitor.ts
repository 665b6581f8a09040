/**
 * The server's periodic checks: runners that stopped heartbeating are marked LOST and
 * their jobs end FAILED `runner lost`; waiting jobs that no registered runner could ever
 * fit say so ("no runner has 2 GPUs"), or fail where no bigger runner will come.
 */
import { RETRY_MAX_DELAY_MS } from '../core/api.js';
import { neverFits } from '../core/resources.js';
import type { Engine } from './engine.js';
import { RUNNER_LOST } from '../core/job-status.js';

export interface MonitorOptions {
  /** A runner silent this long is lost, ms (default 60 s). */
  runnerTimeoutMs: number;
  /** How often to check, ms. */
  intervalMs?: number;
  /**
   * Fail a job no runner could ever fit rather than keep it waiting for a bigger runner to
   * register: the embedded server, whose one runner is this machine.
   */
  failUnfittable?: boolean;
}

/**
 * Mark runners silent for longer than `runnerTimeoutMs` lost. Silence counts from the last
 * heartbeat stored or heard (`Engine.lastHeard`: the store's write of it may have failed),
 * and from `since` at the earliest (the server's start): a runner cannot heartbeat a server
 * that is down, and one retrying waits up to RETRY_MAX_DELAY_MS before it tries again.
 */
export async function checkRunners(
  engine: Engine,
  runnerTimeoutMs: number,
  now = Date.now(),
  since = 0,
): Promise<void> {
  for (const runner of await engine.store.listRunners()) {
    const heard = Math.max(runner.updatedAt, engine.lastHeard(runner.name));
    if (runner.status !== 'ACTIVE' || now - Math.max(heard, since + RETRY_MAX_DELAY_MS) <= runnerTimeoutMs) continue;
    await engine.store.setRunnerStatus(runner.name, 'LOST');
    engine.logger.warn(`runner ${runner.name} lost: no heartbeat for ${Math.round((now - heard) / 1000)}s`);
    await engine.failJobsOf(runner.name, RUNNER_LOST, 'server');
  }
}

/**
 * Give each waiting job the reason it cannot start anywhere, or clear it once a runner could
 * take it; with `failUnfittable`, fail a job that active runners exist for but none could fit.
 */
export async function explainWaiting(engine: Engine, failUnfittable = false): Promise<void> {
  const registered = await engine.store.listRunners();
  const runners = registered.filter((r) => r.status === 'ACTIVE');
  for (const job of await engine.store.jobsByStatus(['SUBMITTED'])) {
    if (job.cachedFrom) continue;
    const missing = runners.map((r) => neverFits(job.spec.resources, r.total));
    const reason =
      runners.length === 0
        ? registered.length === 0
          ? 'no runner is registered'
          : 'no runner is online'
        : missing.every((m) => m !== null)
          ? `no runner has ${missing[0]}`
          : undefined;
    if (failUnfittable && runners.length > 0 && reason !== undefined) {
      const failure = runners.length === 1 ? `this machine does not have ${missing[0]}` : reason;
      await engine.transition(job.id, 'SUBMITTED', 'FAILED', { reason: failure }, 'server');
      continue;
    }
    const current = job.reason?.startsWith('no runner') ? job.reason : undefined;
    if (reason !== current) await engine.update(job.id, 'SUBMITTED', { reason: reason ?? null });
  }
}

export function startMonitor(engine: Engine, options: MonitorOptions): () => void {
  const interval = options.intervalMs ?? Math.min(5000, Math.max(200, options.runnerTimeoutMs / 4));
  let busy = false;
  let since = Date.now();
  let lastTick = since;
  const timer = setInterval(() => {
    const now = Date.now();
    // A tick far later than due: this process was paused (a laptop's sleep, SIGSTOP), and
    // runners could no more reach it than it could hear them. Silence counts from now, as
    // from a start; its own runner, inside it, was paused with it.
    if (now - lastTick > Math.max(3 * interval, options.runnerTimeoutMs / 2)) since = now;
    lastTick = now;
    if (busy) return;
    busy = true;
    void checkRunners(engine, options.runnerTimeoutMs, now, since)
      .catch((e: unknown) => {
        // The store failed (its database down): runners' requests failed on it too, their
        // token's look-up first, so silence counts from its recovery, as from a start.
        since = Date.now();
        throw e;
      })
      .then(() => explainWaiting(engine, options.failUnfittable))
      .catch((e) => engine.logger.error('monitor check failed', { error: String(e) }))
      .finally(() => (busy = false));
  }, interval);
  timer.unref();
  return () => clearInterval(timer);
}
