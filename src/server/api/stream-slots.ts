/**
 * How many log streams (`GET /api/logs/stream`) each user may hold open at once. An open
 * stream costs little idle (about 45 KB of heap, a socket, a timer, a listener on every job
 * change), but each followed line is read and written once per stream: measured on this
 * project's 2-core machine, 1,000 streams of one job printing 20 lines a second held the
 * server's event loop up to 200 ms, and another user's `GET /api/runs/NAME` waited 50 ms at the
 * median and a second at worst; 3,000 made it 1.2 s at the median (docs/decisions.md).
 *
 * Counted per user name, whichever of the user's tokens opened the stream, in this server
 * process (servers sharing a database count their own). Admins count as users: a script of
 * theirs starves the others as well; runner tokens cannot follow logs at all.
 */
import { TooManyRequestsError } from '../../core/errors.js';
import type { TokenRecord } from '../store/store.js';

/** The default of `maxLogStreamsPerUser` (ServerOptions, DSTACK_MAX_LOG_STREAMS). */
export const DEFAULT_MAX_LOG_STREAMS = 64;

export class StreamSlots {
  private readonly open = new Map<string, number>();

  /** `max`: streams one user may hold open at once. */
  constructor(readonly max: number = DEFAULT_MAX_LOG_STREAMS) {}

  /**
   * Take a slot for `caller`, or refuse (429) saying how many are open and what to do. The
   * returned function gives it back; calling it again does nothing, so each way a stream
   * ends (its client gone, its follower done) may call it.
   */
  take(caller: TokenRecord): () => void {
    const held = this.open.get(caller.name) ?? 0;
    if (held >= this.max) {
      throw new TooManyRequestsError(
        `too many log streams open: user '${caller.name}' has ${held} open, the most this server allows one user ` +
          `(DSTACK_MAX_LOG_STREAMS=${this.max}); stop some (other 'dstack logs -f' or 'dstack run' in the foreground, ` +
          "dashboard tabs showing a log) and try again, or ask the server's admin to raise the limit",
      );
    }
    this.open.set(caller.name, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.open.get(caller.name) ?? 1) - 1;
      if (left > 0) this.open.set(caller.name, left);
      else this.open.delete(caller.name);
    };
  }

  /** Streams `user` holds open now: for tests and diagnostics. */
  held(user: string): number {
    return this.open.get(user) ?? 0;
  }
}
