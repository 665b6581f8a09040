/**
 * Jobs a runner no longer has. The heartbeat of a registered runner process (one that sends
 * its session) lists every job it holds, from its claim until the job's end is reported or
 * the runner gives up reporting it. A job the server still has unfinished there that its
 * heartbeats leave out ended on the runner without its end reaching the server: its final
 * report gave up (a server whose storage stayed full past the runner's retries, say). Left
 * alone it would stay RUNNING for good, its runner heartbeating all along, so it fails.
 *
 * A heartbeat's list is taken when the runner sends it, so one sent just before the runner
 * took a job may arrive after the job is RUNNING; the runner re-sends at once with the job
 * included. A job is therefore failed only once heartbeats that arrived `confirmMs` apart left it
 * out, with none listing it between. A job in DOWNLOADING is the claim's: one whose answer
 * never reached the runner is offered again by its next claim (scheduler.ts `lostAssignment`).
 * The runner's jobs are read at most four times a `confirmMs` per runner: a runner re-sends its
 * heartbeat at each job it takes, and a thousand-job run should not read them a thousand times.
 */
import { RUNNER_DROPPED } from '../core/job-status.js';
import type { Engine } from './engine.js';

export class DroppedJobs {
  /** Per runner, per job its heartbeats leave out: when the first of them arrived, ms since the epoch. */
  private readonly missed = new Map<string, Map<string, number>>();
  /** Per runner, when its jobs were last read, ms since the epoch. */
  private readonly checked = new Map<string, number>();

  constructor(private readonly engine: Engine) {}

  /**
   * A heartbeat from `runner`'s registered process, holding `held`: fail the jobs heartbeats
   * have left out for `confirmMs` (default: the heartbeat interval the server gives runners).
   */
  async heartbeat(runner: string, held: readonly string[], now = Date.now(), confirmMs = this.engine.heartbeatMs) {
    const before = this.missed.get(runner);
    for (const id of held) before?.delete(id); // listed: whatever left it out was sent before the runner had it
    if (now - (this.checked.get(runner) ?? 0) < confirmMs / 4) return;
    this.checked.set(runner, now);
    const holds = new Set(held);
    const missed = new Map<string, number>();
    for (const job of await this.engine.store.activeJobsOfRunner(runner)) {
      if (holds.has(job.id) || job.status === 'DOWNLOADING') continue;
      const since = before?.get(job.id) ?? now;
      if (now - since < confirmMs) {
        missed.set(job.id, since);
        continue;
      }
      const result = await this.engine.transition(job.id, job.status, 'FAILED', { reason: RUNNER_DROPPED }, 'server');
      if (result.ok) this.engine.logger.warn(`runner ${runner} no longer has job ${job.id}: failed it`);
    }
    if (missed.size > 0) this.missed.set(runner, missed);
    else this.missed.delete(runner);
  }
}
