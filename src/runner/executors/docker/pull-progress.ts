/**
 * An image pull's progress events (one JSON object per layer update) summed up into a line
 * for the job's log now and then, rather than a line per layer per chunk.
 */

/** One event of the engine's pull stream. */
export interface PullEvent {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
}

interface Layer {
  current: number;
  total: number;
  done: boolean;
}

export class PullProgress {
  private readonly layers = new Map<string, Layer>();
  private lastLine = -Infinity;

  constructor(
    private readonly image: string,
    /** At most one line per this many ms, besides the last. */
    private readonly everyMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Take one event; returns a line to log when one is due. */
  update(event: PullEvent): string | undefined {
    if (event.id === undefined || event.status === undefined) return undefined;
    const layer = this.layers.get(event.id) ?? { current: 0, total: 0, done: false };
    if (event.status === 'Downloading' && event.progressDetail) {
      layer.current = event.progressDetail.current ?? layer.current;
      layer.total = event.progressDetail.total ?? layer.total;
    } else if (/^(Pull complete|Already exists|Download complete)$/.test(event.status)) {
      layer.done = event.status !== 'Download complete' || layer.done;
      if (layer.total > 0) layer.current = layer.total;
    } else if (!/^(Pulling fs layer|Waiting|Verifying Checksum|Extracting)$/.test(event.status)) {
      return undefined; // `Pulling from library/x`, digests: not layers
    }
    this.layers.set(event.id, layer);
    if (this.now() - this.lastLine < this.everyMs) return undefined;
    this.lastLine = this.now();
    return this.line();
  }

  line(): string {
    const layers = [...this.layers.values()];
    const done = layers.filter((l) => l.done).length;
    const current = layers.reduce((n, l) => n + l.current, 0);
    const total = layers.reduce((n, l) => n + l.total, 0);
    const bytes = total > 0 ? `, ${mb(current)} of ${mb(total)} MB` : '';
    return `pulling ${this.image}: ${done} of ${layers.length} layers${bytes}`;
  }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
