/** Running async work with a bound on how much is in flight at once, or on how long it may take. */

/** Call `fn` for every item, at most `limit` at a time; rejects with the first failure once in-flight calls settle. */
export async function forEachLimit<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failed = false;
  const worker = async () => {
    for (let next = iterator.next(); !next.done && !failed; next = iterator.next()) {
      try {
        await fn(next.value);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, limit) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * Map `items` through `fn` with up to `ahead` calls in flight, yielding the results in the
 * items' order: a consumer reads one after another while the next ones are being fetched.
 */
export async function* mapAhead<T, R>(
  items: readonly T[],
  ahead: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  let next = 0;
  const fill = () => {
    while (next < items.length && pending.length < ahead) {
      const p = fn(items[next++]!);
      p.catch(() => {}); // observed when its turn comes; never an unhandled rejection meanwhile
      pending.push(p);
    }
  };
  fill();
  while (pending.length > 0) {
    const value = await pending.shift()!;
    fill();
    yield value;
  }
}

/**
 * `promise`, or `late()` when it takes longer than `ms`: by default an error without an HTTP
 * status, as a lost connection's.
 */
export function answerIn<T>(
  promise: Promise<T>,
  ms: number,
  late: () => Error = () => new Error(`no answer in ${ms / 1000} s`),
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(late()), ms);
    timer.unref();
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** `work`'s value, or undefined when it has not settled within `ms` (the timer keeps no process alive). */
export function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * `work`'s value, or a rejection with the abort's reason once `signal` aborts first. The work
 * itself goes on: it may be shared (a run's code manifest, fetched once for its jobs).
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise((resolve, reject) => {
    const aborted = () => reject(signal.reason);
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    const settled = () => signal.removeEventListener('abort', aborted);
    work.then(
      (value) => (settled(), resolve(value)),
      (e: unknown) => (settled(), reject(e)),
    );
  });
}

/** Resolves true after `ms`, or false at once when `signal` aborts (then, or before). */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const aborted = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * `make()`'s answer, asked once and shared by every caller; a failure is not kept, so the next
 * call asks again (a service that did not answer may answer now).
 */
export function keptUnlessFailed<T>(make: () => Promise<T>): () => Promise<T> {
  let kept: Promise<T> | undefined;
  return () => {
    const answer = (kept ??= make());
    answer.catch(() => {
      if (kept === answer) kept = undefined;
    });
    return answer;
  };
}
