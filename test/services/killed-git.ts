/**
 * A git SIGKILLed in the middle of a ref update, as a stop's SIGKILL (2 s after a SIGTERM that
 * git ignored) cuts one short: `git update-ref --stdin` takes its locks at `prepare` and holds
 * them until told to commit; killed there, it leaves them in the repository.
 */
import { spawn } from 'node:child_process';

/**
 * In the bare repository `gitDir`, lock `refs/heads/{ref}` for an update to `commit` (and, when
 * `deletePacked` names a packed branch, `packed-refs` for its deletion), then SIGKILL git.
 */
export async function killGitHoldingLocks(
  gitDir: string,
  ref: string,
  commit: string,
  deletePacked?: string,
): Promise<void> {
  const child = spawn('git', [`--git-dir=${gitDir}`, 'update-ref', '--stdin'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdin.write(
    'start\n' +
      `update refs/heads/${ref} ${commit}\n` +
      (deletePacked ? `delete refs/heads/${deletePacked}\n` : '') +
      'prepare\n',
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('prepare: ok')) resolve();
    });
    void exited.then(() => reject(new Error(`git update-ref ended before it held its locks: ${err}`)));
  });
  child.kill('SIGKILL');
  await exited;
}
