/**
 * A small structured logger with scoped children. Anything that looks like a secret
 * (tokens, keys, passwords) is redacted before it is written.
 */
import { DISK_FULL, WRITE_REFUSED } from './core/disk-errors.js';

/** The levels, least severe first (`DSTACK_LOG_LEVEL`, settings.ts). */
export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

const SECRET_KEY = /token|secret|password|passphrase|private.?key|authorization/i;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;

export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) ? '[redacted]' : typeof v === 'string' ? v.replace(BEARER, '$1[redacted]') : v,
    ]),
  );
}

/** How long a line may wait to be written with the ones after it, ms. */
export const LOG_BATCH_MS = 20;

/**
 * Lines to `out`, written together at most LOG_BATCH_MS after the first of them: stderr to a
 * file or a pipe is a synchronous write on Linux, and a server logging each job's transitions
 * paid a system call per turn of the event loop on its only thread (about 5% of a run of
 * trivial jobs). A warning or an error is written at once, with what waited before it, and
 * what is pending is written when the process exits.
 *
 * A write that fails (the disk holding the log is full: the local server's log is in
 * DSTACK_HOME) loses its lines and nothing else: the process goes on (the stream's 'error'
 * event is the entry point's to take, cli/stdio-errors.ts), and the first write that works
 * again begins with a line saying how many were lost and why.
 */
export function batchedWriter(
  out: Pick<NodeJS.WriteStream, 'write'> = process.stderr,
): (line: string, urgent?: boolean) => void {
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lost = 0;
  let lostWhy = '';
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    // Said with the next lines, and counted again if they are lost too. Its own line: the
    // write that failed may have left half a line.
    const noted = lost;
    const note = noted > 0 ? `\n${lostLinesNote(noted, lostWhy)}\n` : '';
    lost = 0;
    try {
      out.write(note + lines.join(''), (e) => {
        if (!e) return;
        lost += noted + lines.length;
        lostWhy = (e as NodeJS.ErrnoException).code ?? e.message;
      });
    } catch (e) {
      // A stream that throws rather than calling back (a test's): the same loss.
      lost += noted + lines.length;
      lostWhy = (e as NodeJS.ErrnoException).code ?? String(e);
    }
  };
  process.on('exit', flush);
  return (line, urgent = false) => {
    pending.push(line + '\n');
    if (urgent) flush();
    else timer ??= setTimeout(flush, LOG_BATCH_MS).unref();
  };
}

/** `why`: the failed write's code (ENOSPC), said in words where it is a disk's. */
function lostLinesNote(count: number, why: string): string {
  const what = count === 1 ? '1 line' : `${count} lines`;
  const words = DISK_FULL[why] ?? WRITE_REFUSED[why];
  return `${new Date().toISOString()} WARN [log] ${what} of this log could not be written (${words ? `${why}: ${words}` : why})`;
}

let stderrWriter: ((line: string, urgent?: boolean) => void) | undefined;

export function createLogger(
  scope: string,
  level: string = 'info',
  /** Where lines go; `urgent` for warnings and errors (see batchedWriter). */
  write: (line: string, urgent?: boolean) => void = (stderrWriter ??= batchedWriter()),
): Logger {
  const min = ORDER[(level as Level) in ORDER ? (level as Level) : 'info'];
  const log = (lvl: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const extra = fields ? ' ' + JSON.stringify(redact(fields)) : '';
    write(
      `${new Date().toISOString()} ${lvl.toUpperCase()} [${scope}] ${message.replace(BEARER, '$1[redacted]')}${extra}`,
      ORDER[lvl] >= ORDER.warn,
    );
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (sub) => createLogger(`${scope}:${sub}`, level, write),
  };
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
