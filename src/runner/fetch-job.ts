/**
 * The curl provider on a runner: download `url` to `output` in the workspace with Node's
 * fetch (redirects followed, server errors and network faults retried with backoff, progress
 * in the log), so a runner needs no curl binary. Stop and abort cancel the download.
 */
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { formatSize } from '../core/resources.js';
import { prepareWrite } from '../files/safe-path.js';
import type { Execution, ExitResult } from './executors/executor.js';

export interface FetchRequest {
  url: string;
  /** Relative to the workspace. */
  output: string;
  workspace: string;
  note: (text: string) => void;
  /** Tries in all, for network faults, 5xx and 429 (default 4). */
  attempts?: number;
  /** Wait before the second try, doubled for each next one, ms (default 1000). */
  backoffMs?: number;
  /** At most one progress line per this many ms (default 2000). */
  progressMs?: number;
}

export function startFetch(request: FetchRequest): Execution {
  const controller = new AbortController();
  let signalled: NodeJS.Signals | null = null;
  const stop = (signal: NodeJS.Signals) => {
    signalled = signal;
    controller.abort();
  };
  const exit = download(request, controller.signal).catch((e: unknown): ExitResult => {
    if (signalled !== null) return { code: null, signal: signalled };
    return { code: 1, signal: null, reason: `cannot download ${request.url}: ${(e as Error).message}` };
  });
  return { pid: undefined, exit, terminate: () => stop('SIGTERM'), kill: () => stop('SIGKILL') };
}

async function download(request: FetchRequest, signal: AbortSignal): Promise<ExitResult> {
  const { url, output, note } = request;
  const attempts = request.attempts ?? 4;
  const target = await prepareWrite(request.workspace, output);
  for (let attempt = 1; ; attempt++) {
    // Abortable: a stop during the wait ends the download at once.
    const retry = async (what: string): Promise<boolean> => {
      if (attempt >= attempts) return false;
      const wait = (request.backoffMs ?? 1000) * 2 ** (attempt - 1);
      note(`${what}; retrying in ${wait / 1000} s (try ${attempt + 1} of ${attempts})`);
      await sleep(wait, undefined, { signal });
      return true;
    };
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'follow', signal });
    } catch (e) {
      if (signal.aborted) throw e;
      // Fetch refuses the ports browsers block (the fetch standard's "bad ports": 6000, 6667, …) before
      // any connection: no try can change that, and "bad port" alone reads as a fault of the URL's server.
      if (cause(e) === 'bad port') return { code: 1, signal: null, reason: badPort(url) };
      if (await retry(`GET ${url} failed: ${cause(e)}`)) continue;
      return { code: 1, signal: null, reason: `cannot download ${url}: ${cause(e)}` };
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      const what = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} from ${url}`;
      if ((response.status >= 500 || response.status === 429) && (await retry(what))) continue;
      return { code: 1, signal: null, reason: what };
    }
    if (response.redirected) note(`redirected to ${response.url}`);
    const total = Number(response.headers.get('content-length') ?? '') || undefined;
    note(`downloading ${url} to ${output}${total === undefined ? '' : ` (${formatSize(total)})`}`);
    try {
      const bytes = await save(response, target, total, request.progressMs ?? 2000, note);
      note(`downloaded ${formatSize(bytes)} to ${output}`);
      return { code: 0, signal: null };
    } catch (e) {
      if (signal.aborted) throw e;
      if (await retry(`download of ${url} broke off: ${cause(e)}`)) continue;
      return { code: 1, signal: null, reason: `cannot download ${url}: ${cause(e)}` };
    }
  }
}

async function save(
  response: Response,
  target: string,
  total: number | undefined,
  everyMs: number,
  note: (text: string) => void,
): Promise<number> {
  let bytes = 0;
  let last = Date.now();
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (Date.now() - last >= everyMs) {
        last = Date.now();
        const share = total ? ` of ${formatSize(total)} (${Math.floor((100 * bytes) / total)}%)` : '';
        note(`downloaded ${formatSize(bytes)}${share}`);
      }
      done(null, chunk);
    },
  });
  const body = response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]);
  await pipeline(body, count, createWriteStream(target));
  return bytes;
}

/** Why a URL on a port fetch refuses (as browsers do) cannot be downloaded, and what to do. */
function badPort(url: string): string {
  const port = new URL(url).port;
  const which = port ? `port ${port} is` : 'it redirects to a port that is'; // a default port is never blocked
  return (
    `cannot download ${url}: ${which} one that fetch refuses, as browsers do (the fetch ` +
    `standard's blocked ports, which other protocols use): serve the file on another port`
  );
}

/** What went wrong in fetch's words: its `cause` (ECONNREFUSED, a DNS failure) says more than "fetch failed". */
function cause(e: unknown): string {
  const inner = (e as { cause?: { code?: string; message?: string } }).cause;
  return inner?.code ?? inner?.message ?? (e as Error).message;
}
