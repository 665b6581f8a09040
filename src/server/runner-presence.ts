/**
 * What this server process knows of its runners beside the store: when each was last heard
 * from, and which get no new work. Neither is written to the store: both are about this process's
 * requests, and must hold while the store cannot be written.
 */
export class RunnerPresence {
  /** When each runner was last heard from, ms since the epoch: `heardFrom`. */
  private readonly heard = new Map<string, number>();
  /** Runners that get no new work (the server's own, while it shuts down): `drain`. */
  private readonly draining = new Set<string>();

  /** `wake`: answers the claims that wait for work, so that a drained runner's gets none at once. */
  constructor(private readonly wake: () => void) {}

  /** `runner` gets no new work from now on, and a claim of its that waits for work is answered now (with none). */
  drain(runner: string): void {
    this.draining.add(runner);
    this.wake();
  }

  isDraining(runner: string): boolean {
    return this.draining.has(runner);
  }

  undrain(runner: string): void {
    this.draining.delete(runner);
  }

  /**
   * Note a request of `runner`'s, before anything is written: its heartbeat in the store
   * cannot be written while the database is down or its disk full, and a runner that kept
   * calling all along must not be taken for lost once the store is back.
   */
  heardFrom(runner: string): void {
    this.heard.set(runner, Date.now());
  }

  /** When `runner` was last heard from by this process (`heardFrom`), ms since the epoch; 0 when never. */
  lastHeard(runner: string): number {
    return this.heard.get(runner) ?? 0;
  }
}
