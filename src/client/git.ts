/** Asking the project's git repo about itself, for the CLI: an answer, or undefined when git says no. */
import { execFile } from 'node:child_process';

/** `git -C root ARGS` as text; undefined when git fails (not a repo, no such ref, no git). */
export function gitOutput(root: string, ...args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['-C', root, ...args], { maxBuffer: 256 * 1024 * 1024 }, (error, stdout) =>
      resolve(error ? undefined : stdout),
    );
  });
}
