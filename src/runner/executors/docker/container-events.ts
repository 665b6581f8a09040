/**
 * Who ended a job's container, told by its engine's event stream: a kill the runner did not
 * send came from outside dstack (`docker stop`, `docker kill`), and one that the stream's end
 * follows came from the engine itself shutting down (it stops its containers, then closes its
 * connections). A container that exits by itself has no kill, so its exit code is its own.
 */
import type Docker from 'dockerode';
import { answerIn } from '../../../core/concurrency.js';
import { ANSWER_MS } from './engine-link.js';

/** The stream's end this soon after the container's kill means the engine shut down (it closes once its containers have stopped). */
const SHUTDOWN_CLOSE_MS = 5000;

export class ContainerEvents {
  /** A kill reached the container: the runner's own, or one from outside. */
  killed = false;
  private readonly ended: Promise<void>;

  private constructor(private readonly stream: NodeJS.ReadableStream & { destroy?: () => void }) {
    let lines = '';
    stream.on('data', (chunk: Buffer) => {
      lines += chunk.toString();
      for (let at = lines.indexOf('\n'); at >= 0; at = lines.indexOf('\n')) {
        if (/"Action":"kill"/.test(lines.slice(0, at))) this.killed = true;
        lines = lines.slice(at + 1);
      }
    });
    this.ended = new Promise((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
  }

  /** Watch `container`'s kills, from before it starts; undefined when the engine does not answer (nothing is told then). */
  static async watch(docker: Docker, container: string): Promise<ContainerEvents | undefined> {
    const filters = { type: ['container' as const], container: [container], event: ['kill'] };
    const stream = await answerIn(docker.getEvents({ filters }), ANSWER_MS).catch(() => undefined);
    return stream && new ContainerEvents(stream);
  }

  /** Whether the engine closed the stream within SHUTDOWN_CLOSE_MS: it is shutting down. */
  async engineClosing(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SHUTDOWN_CLOSE_MS)));
    const closed = await Promise.race([this.ended.then(() => true as const), late]);
    clearTimeout(timer);
    return closed;
  }

  close(): void {
    this.stream.destroy?.();
  }
}
