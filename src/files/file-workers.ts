/**
 * Where a file job (file-jobs.ts) runs: in place when it is small, on a worker thread when
 * it is big. A pack of a thousand files read, hashed and written on the event loop's thread
 * held it for most of a save (3.4 s of the server's thread for a 1 GiB save of 10,000 files:
 * hashing 0.85 s, the rest the pool's trips); on workers the loop only hands the jobs out.
 *
 * The workers start on the first big job and stay for the process's life, idle ones not
 * keeping it alive. Buffers cross to them without a copy only as SharedArrayBuffers; the
 * callers allocate the pack buffers they hand over that way.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { InternalError } from '../core/errors.js';
import { jobBytes, runFileJob, shareable, type FileJob, type FileJobResult } from './file-jobs.js';

/** Jobs up to this many bytes run in place: under a millisecond or two of the loop, less than a worker's round trip and start. */
export const IN_PLACE_BYTES = 1 << 20;

/** One worker a core, up to 4: the jobs are the kernel's file calls and hashing, both CPU. */
const WORKERS = Math.max(1, Math.min(4, availableParallelism()));

/** Made on the first big job: every CLI call loads this module, and `node:worker_threads` costs it about 2 ms. */
let pool: Promise<WorkerPool> | undefined;

export async function fileJob<J extends FileJob>(job: J): Promise<FileJobResult<J>> {
  if (jobBytes(job) <= IN_PLACE_BYTES) return runFileJob(job);
  pool ??= import('node:worker_threads').then(({ Worker }) => new WorkerPool(Worker));
  return (await (await pool).run(shareable(job))) as FileJobResult<J>;
}

interface Pending {
  job: FileJob;
  resolve: (result: unknown) => void;
  reject: (e: Error) => void;
}

/** Exported for the tests, which hand it a Worker class of their own to reach its threads. */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private started = 0;

  constructor(private readonly Thread: typeof Worker) {}

  run(job: FileJob): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.started < WORKERS ? this.start() : undefined);
      if (!worker) return;
      const pending = this.queue.shift()!;
      this.busy.set(worker, pending);
      worker.ref(); // a job under way keeps the process alive, as a pending file call does
      worker.postMessage(pending.job);
    }
  }

  private start(): Worker {
    this.started++;
    const worker = startWorker(this.Thread);
    worker.on('message', (m: { result?: unknown; error?: string }) => {
      const pending = this.busy.get(worker)!;
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if (m.error === undefined) pending.resolve(m.result);
      else pending.reject(new InternalError(`a file job failed on its worker thread: ${m.error}`));
      this.next();
    });
    let stopped = false;
    const gone = (e: Error) => {
      if (stopped) return; // 'error' is followed by 'exit'
      stopped = true;
      this.started--;
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      this.busy.get(worker)?.reject(e);
      this.busy.delete(worker);
      this.next();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new InternalError(`a file worker thread exited (code ${code})`)));
    return worker;
  }
}

/**
 * The worker's module beside this one: `file-worker.js` in tsc's output and in the CLI's
 * bundle (scripts/bundle-cli.mjs). Run from the TypeScript sources (the tests), it is a `.ts`
 * file, which a worker loads through tsx, as the tests' own process does.
 */
function startWorker(Thread: typeof Worker): Worker {
  const url = new URL(`./file-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  if (url.pathname.endsWith('.js')) return new Thread(url);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Thread(boot, { eval: true });
}
