/**
 * A job's container runs its commands with the image's /bin/sh, under tini. An image without
 * one (a distroless or scratch image) fails as tini says it: exit code 127 and
 * `[FATAL tini (7)] exec /bin/sh failed: No such file or directory`, which names neither the
 * image nor what to do. This watches the start of the container's stderr for that line.
 */
import type { OnOutput } from '../executor.js';

/** What tini prints, first thing, when the shell it was to run is not there. */
const TINI_NO_SHELL = /^\[FATAL tini \(\d+\)\] exec \/bin\/sh failed: No such file or directory/;
/** How much of stderr's start is kept to look at: tini's line, and no more. */
const HEAD_BYTES = 200;

export class MissingShell {
  private head = '';

  /** `onOutput`, watching the start of stderr on the way. */
  watch(onOutput: OnOutput): OnOutput {
    return (stream, chunk) => {
      if (stream === 'stderr' && this.head.length < HEAD_BYTES)
        this.head += chunk.subarray(0, HEAD_BYTES - this.head.length).toString('utf8');
      return onOutput(stream, chunk);
    };
  }

  /** The reason for a container that exited with `code`, when tini found no /bin/sh in `image`; else undefined. */
  reason(code: number | null, image: string): string | undefined {
    if (code !== 127 || !TINI_NO_SHELL.test(this.head)) return undefined;
    return `image '${image}' has no /bin/sh, which dstack runs a job's commands with: use an image with a shell`;
  }
}
