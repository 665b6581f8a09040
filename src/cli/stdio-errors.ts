/**
 * What the CLI's processes do when a write to their stdout or stderr fails. Node raises such a
 * failure as an 'error' event, and one nobody takes ends the process.
 */

/**
 * A reader that stops early (`dstack logs RUN | head`) closes the pipe: stop quietly, as other
 * tools do, rather than with a stack trace (a run being followed goes on, as after Ctrl-C).
 * Any other failure on stdout is the command's: what it prints is what was asked for. Any
 * other on stderr is dropped (dropStderrErrors).
 */
export function handleStdioErrors(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0);
  });
  process.stderr.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
}

/**
 * A failure on stderr is dropped: a server's or a runner's stderr is its log (the local
 * server's is in DSTACK_HOME), and a full disk under it must not end the process and its
 * jobs. The logger counts the lines it lost and says so once writes work again (logger.ts
 * batchedWriter).
 */
export function dropStderrErrors(): void {
  process.stderr.on('error', () => {});
}
