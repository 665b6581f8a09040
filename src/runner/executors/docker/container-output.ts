/**
 * A job's container's output, whole across lost connections to its engine. It is read from
 * the container's attach stream, on which Docker makes the job wait while the runner reads
 * slowly (its blocking log mode). When that stream ends while the container runs on, or ends
 * with it over a connection that may have been cut, the rest comes from the container's log:
 * the bytes of each stream taken so far are counted, and that many skipped from the log's
 * start, so that no byte is lost or repeated (docs/decisions.md says when that cannot hold).
 */
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { readOutput, type ExecutionRequest } from '../executor.js';
import type { ContainerEnd } from './container-exit.js';
import { engineMessage, statusOf } from './engine.js';
import { answerIn } from '../../../core/concurrency.js';
import { ANSWER_MS, POLL_MS, sleep, type EngineLink } from './engine-link.js';

type Stream = 'stdout' | 'stderr';
type Source = 'attach' | 'log';

/** A whole attach stream ends with its container: its wait request gets this long to tell so. */
const WAIT_TELLS_MS = 1000;

export class ContainerOutput {
  private readonly taken: Record<Stream, number> = { stdout: 0, stderr: 0 };
  /** When bytes last came (taken or skipped): an output still coming is not abandoned. */
  private lastCame = Date.now();
  private current: Readable | undefined;
  /** Output is read from the container's log since its attach stream was lost. */
  private fromLog = false;
  private logUnreadable = false;
  private over = false;
  private finish!: () => void;
  /** Resolves once all the output is taken, or it is abandoned. */
  readonly done = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    private readonly sink: Pick<ExecutionRequest, 'onOutput' | 'whenDrained' | 'onNote'>,
    private readonly link: EngineLink,
    /** How the container ended, once it did. */
    private readonly exitEnd: Promise<ContainerEnd>,
  ) {}

  /** Attach before the container starts: not a byte is lost. */
  async attach(): Promise<void> {
    const stream = await this.container.attach({ stream: true, stdout: true, stderr: true });
    this.read(stream as unknown as Readable, 'attach', { stdout: 0, stderr: 0 });
  }

  /**
   * Once the container has ended: wait for the rest of its output until none has come for
   * `idleMs` (`logIdleMs` when it is read from the log), then abandon what is left.
   */
  async settle(idleMs: number, logIdleMs: number): Promise<void> {
    const from = Date.now();
    for (;;) {
      const left = Math.max(from, this.lastCame) + (this.fromLog ? logIdleMs : idleMs) - Date.now();
      if (left <= 0) break;
      const done = await Promise.race([this.done.then(() => true), sleep(Math.min(left, 500)).then(() => false)]);
      if (done) return;
    }
    if (this.fromLog && !this.over) this.note("the job's output may be cut short: its container's log stopped coming");
    this.abandon();
  }

  /** Read no more (the container is being removed, or never started). */
  abandon(): void {
    this.over = true;
    this.current?.destroy();
    this.finish();
  }

  private note(text: string): void {
    this.sink.onNote?.(text);
  }

  private read(stream: Readable, source: Source, skip: Record<Stream, number>): void {
    this.current = stream;
    const out = new PassThrough();
    const err = new PassThrough();
    this.take(out, 'stdout', skip.stdout, stream);
    this.take(err, 'stderr', skip.stderr, stream);
    this.docker.modem.demuxStream(stream, out, err);
    let ended = false;
    // A cut connection ends the response with 'close' (and 'error'), not 'end'; a raw attach stream may 'end' on one.
    const end = (whole: boolean) => {
      if (ended) return;
      ended = true;
      void Promise.all([flushed(out), flushed(err)]).then(() => this.ended(source, whole));
    };
    stream.once('end', () => end(true));
    stream.once('close', () => end(false));
    stream.once('error', () => end(false));
  }

  /** Take one stream's bytes from `from`, less the first `skip` (taken before, from another source). */
  private take(from: PassThrough, stream: Stream, skip: number, pausable: Readable): void {
    let skipping = skip;
    const onOutput = (name: Stream, chunk: Buffer) => {
      this.lastCame = Date.now();
      if (skipping >= chunk.length) {
        skipping -= chunk.length;
        return true;
      }
      const rest = chunk.subarray(skipping);
      skipping = 0;
      this.taken[name] += rest.length;
      return this.sink.onOutput(name, rest);
    };
    readOutput(from, stream, { onOutput, whenDrained: this.sink.whenDrained }, pausable);
  }

  /** A source of output ended: the container's end, or a lost connection, whose rest is read from the log. */
  private async ended(source: Source, whole: boolean): Promise<void> {
    if (this.over) return;
    if (whole && source === 'attach') {
      const end = await Promise.race([this.exitEnd, sleep(WAIT_TELLS_MS).then(() => undefined)]);
      if (end?.kind === 'ended' && end.byWait) return this.end();
    }
    const state = await this.stateWhenAnswered();
    if (this.over) return;
    if (state === undefined || state.kind === 'gone') return this.end();
    if (whole && source === 'log') {
      if (state.kind === 'ended') return this.end();
      await sleep(POLL_MS); // it ended with the container, which a look is about to see
    }
    await this.readLog(state.kind === 'running');
  }

  private async stateWhenAnswered() {
    while (!this.over) {
      const state = await this.link.state();
      if (state !== undefined) return state;
      await sleep(POLL_MS);
    }
    return undefined;
  }

  /** Read on from the container's log (followed while it runs), from the bytes taken so far. */
  private async readLog(running: boolean): Promise<void> {
    if (this.logUnreadable) return running ? this.reattach() : this.end();
    let log: Readable;
    try {
      const request = this.container.logs({ follow: true, stdout: true, stderr: true });
      log = (await answerIn(request, ANSWER_MS)) as unknown as Readable;
    } catch (e) {
      if (statusOf(e) === undefined) return this.retry(e);
      // A log driver that cannot be read (`none`, or dual logging turned off): the gap is lost.
      this.logUnreadable = true;
      this.note(
        `cannot read the container's log (${engineMessage(e)}): ` +
          'what the job printed while the connection was lost is missing',
      );
      return running ? this.reattach() : this.end();
    }
    if (this.over) return void log.destroy();
    if (running && !this.fromLog) this.note("the job's output goes on from its container's log, where it was cut off");
    this.fromLog = true;
    this.read(log, 'log', { ...this.taken });
  }

  /** Without a log to read, the output goes on from now. */
  private async reattach(): Promise<void> {
    try {
      const stream = await answerIn(this.container.attach({ stream: true, stdout: true, stderr: true }), ANSWER_MS);
      if (this.over) return void (stream as unknown as Readable).destroy();
      this.read(stream as unknown as Readable, 'attach', { stdout: 0, stderr: 0 });
    } catch (e) {
      await this.retry(e);
    }
  }

  private async retry(error: unknown): Promise<void> {
    this.link.failed(error);
    await sleep(POLL_MS);
    await this.ended('log', false);
  }

  private end(): void {
    this.over = true;
    this.finish();
  }
}

/** Ends `stream` and resolves once what it holds has been read. */
function flushed(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.end();
  });
}
