/**
 * When a job's container ends, and how. Its wait request answers at once in the usual case,
 * but one whose connection is lost is never answered (docker-modem listens only for the end of
 * the response, which Node never emits for one cut off): the container is also looked at every
 * POLL_MS. A stop's signal the engine did not hear is sent again once it answers; a kill it
 * never hears ends the job all the same after `giveUpMs`, so that a stop always ends. An end
 * the engine went quiet with (it shuts down, stopping its containers, then closes) says so.
 */
import type Docker from 'dockerode';
import { statusOf } from './engine.js';
import { answerIn } from '../../../core/concurrency.js';
import { ANSWER_MS, POLL_MS, sleep, type EngineLink } from './engine-link.js';

export type ContainerEnd =
  /**
   * `byWait`: told by its wait request, whose connection held to the end. `engineLost`: the
   * engine stopped answering as it ended, or while it could not be seen to end (a shutdown).
   */
  | { kind: 'ended'; code: number; oom: boolean; byWait: boolean; engineLost: boolean }
  | { kind: 'gone' }
  /** Killed, and the engine did not answer for `giveUpMs` since. */
  | { kind: 'unanswered' };

export class ContainerExit {
  readonly end: Promise<ContainerEnd>;
  private settle!: (end: ContainerEnd) => void;
  private settled = false;
  /** The last signal the engine may not have heard. */
  private pending: NodeJS.Signals | undefined;
  private killedAt: number | undefined;
  private readonly cancelWait = new AbortController();
  /** The engine has not answered since the container was last seen running. */
  private lostSinceRunning = false;

  constructor(
    private readonly container: Docker.Container,
    private readonly link: EngineLink,
    private readonly giveUpMs: number,
  ) {
    this.end = new Promise((resolve) => {
      this.settle = (end) => {
        if (this.settled) return;
        this.settled = true;
        this.cancelWait.abort();
        resolve(end);
      };
    });
    void this.waitRequest();
    void this.look();
  }

  /** Send `signal` to the container; again once the engine answers, should it not have heard it. */
  send(signal: NodeJS.Signals): void {
    if (signal === 'SIGKILL') this.killedAt ??= Date.now();
    this.pending = signal;
    answerIn(this.container.kill({ signal }), ANSWER_MS).then(
      () => this.heard(signal),
      (e: unknown) => {
        // 409: it has already stopped; 404: it is gone. Either way nothing is left to signal.
        if (statusOf(e) !== undefined) this.heard(signal);
        else this.link.failed(e);
      },
    );
  }

  private heard(signal: NodeJS.Signals): void {
    if (this.pending === signal) this.pending = undefined;
  }

  private async waitRequest(): Promise<void> {
    try {
      const result = (await this.container.wait({ abortSignal: this.cancelWait.signal })) as { StatusCode: number };
      const state = await this.link.state();
      const oom = state?.kind === 'ended' && state.oom;
      this.settle({ kind: 'ended', code: result.StatusCode, oom, byWait: true, engineLost: state === undefined });
    } catch {
      // Cut off, or the container is gone: the looks tell.
    }
  }

  private async look(): Promise<void> {
    while (!this.settled) {
      await sleep(POLL_MS);
      if (this.settled) return;
      const state = await this.link.state();
      if (this.settled) return;
      if (state === undefined) this.lostSinceRunning = true;
      if (state?.kind === 'running') this.lostSinceRunning = false;
      if (state?.kind === 'gone') return this.settle(state);
      if (state?.kind === 'ended') {
        // Its wait request usually tells first: a moment for it, else its connection was lost.
        await Promise.race([this.end, sleep(1000)]);
        return this.settle({ ...state, byWait: false, engineLost: this.lostSinceRunning });
      }
      if (state?.kind === 'running' && this.pending) this.send(this.pending);
      if (!state && this.killedAt !== undefined && Date.now() - this.killedAt >= this.giveUpMs) {
        return this.settle({ kind: 'unanswered' });
      }
    }
  }
}
