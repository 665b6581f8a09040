/**
 * A job's container seen through a connection to its engine that can be lost (a dockerd
 * restart, a proxy or network that drops it): each look at the container is bounded in time,
 * and the job's log says once when the engine stops answering and once when it answers again.
 */
import type Docker from 'dockerode';
import { answerIn } from '../../../core/concurrency.js';
import { engineMessage, statusOf } from './engine.js';

/** How often a container is looked at while its engine does not answer, or while its wait may be lost. */
export const POLL_MS = 2000;
/** A request that gets no answer in this long counts as one whose connection was lost. */
export const ANSWER_MS = 10_000;

/** What the engine says of the container: running, ended (its exit code), or gone (no such container). */
export type ContainerState = { kind: 'running' } | { kind: 'ended'; code: number; oom: boolean } | { kind: 'gone' };

export class EngineLink {
  private lost = false;

  constructor(
    private readonly container: Docker.Container,
    /** How messages name the engine: its socket path or tcp URL. */
    readonly label: string,
    private readonly note: (text: string) => void,
  ) {}

  /** The container's state; undefined when the engine does not answer (or answers with an error). */
  async state(): Promise<ContainerState | undefined> {
    try {
      const info = await answerIn(this.container.inspect(), ANSWER_MS);
      this.answered();
      if (info.State.Running) return { kind: 'running' };
      return { kind: 'ended', code: info.State.ExitCode, oom: info.State.OOMKilled };
    } catch (e) {
      if (statusOf(e) === 404) {
        this.answered();
        return { kind: 'gone' };
      }
      if (statusOf(e) === undefined) this.unanswered(e);
      return undefined;
    }
  }

  /** Whether the last look found the engine not answering. */
  get unreachable(): boolean {
    return this.lost;
  }

  /** A request of the executor's failed: when it was the connection, it says so as a look would. */
  failed(error: unknown): void {
    if (statusOf(error) === undefined) this.unanswered(error);
  }

  private unanswered(error: unknown): void {
    if (this.lost) return;
    this.lost = true;
    this.note(
      `lost the connection to the Docker engine at ${this.label} (${engineMessage(error)}): ` +
        `trying again every ${POLL_MS / 1000} s`,
    );
  }

  private answered(): void {
    if (!this.lost) return;
    this.lost = false;
    this.note(`the Docker engine at ${this.label} answers again`);
  }
}

/** Not unref'd: a CLI running a provider's container must not exit while it waits on it. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Removing a container whose engine did not answer is tried again this often, this many times, in the background. */
const REMOVE_AGAIN_MS = 10_000;
const REMOVE_TRIES = 60;

/**
 * Remove `container` (and its volumes), then call `removed`; while its engine does not
 * answer, tried again in the background (a runner's next start removes what is still left).
 */
export async function removeContainer(container: Docker.Container, removed: () => void): Promise<void> {
  // Any answer ends it: 404 (already gone), 409 (being removed) and 500 are not for trying again.
  const once = () =>
    answerIn(container.remove({ force: true, v: true }), ANSWER_MS).then(
      () => true,
      (e: unknown) => statusOf(e) !== undefined,
    );
  if (await once()) return removed();
  void (async () => {
    for (let i = 0; i < REMOVE_TRIES; i++) {
      await new Promise((resolve) => setTimeout(resolve, REMOVE_AGAIN_MS).unref());
      if (await once()) return removed();
    }
  })();
}
