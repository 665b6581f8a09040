/**
 * A small structured logger with scoped children. Anything that looks like a secret
 * (tokens, keys, passwords) is redacted before it is written.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
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

/**
 * Lines to `out`, written together once per turn of the event loop: stderr to a file or a
 * pipe is a synchronous write on Linux, and a server logging each job's transitions paid one
 * system call per line on its only thread. What is pending is written when the process exits.
 */
export function batchedWriter(out: Pick<NodeJS.WriteStream, 'write'> = process.stderr): (line: string) => void {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    out.write(text);
  };
  process.on('exit', flush);
  return (line) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(line + '\n');
  };
}

let stderrWriter: ((line: string) => void) | undefined;

export function createLogger(
  scope: string,
  level: string = 'info',
  write: (line: string) => void = (stderrWriter ??= batchedWriter()),
): Logger {
  const min = ORDER[(level as Level) in ORDER ? (level as Level) : 'info'];
  const log = (lvl: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const extra = fields ? ' ' + JSON.stringify(redact(fields)) : '';
    write(
      `${new Date().toISOString()} ${lvl.toUpperCase()} [${scope}] ${message.replace(BEARER, '$1[redacted]')}${extra}`,
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
