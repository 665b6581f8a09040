/**
 * `dstack runner exec`'s bad input: what a user (or a broken batch script) sees, from the CLI
 * and from the lean entry point a Slurm batch job starts (dist/cli/runner-exec-main.js).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalServer } from '../../src/client/embedded.js';
import { REPO, Sandbox, type Result } from './harness.js';

const ENTRY = join(REPO, 'dist', 'cli', 'runner-exec-main.js');

describe.each(['dstack', 'runner-exec-main.js'])('dstack runner exec through %s', (via) => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(() => sb.dispose());

  /** `dstack runner exec ARGS`, or the entry point with the same words, as a batch script runs it. */
  const exec = (args: string[]): Promise<Result> =>
    via === 'dstack'
      ? sb.dstack(['runner', 'exec', ...args])
      : new Promise((resolve) => {
          execFile(process.execPath, [ENTRY, 'runner', 'exec', ...args], { env: sb.env() }, (error, stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
          });
        });

  it('says what is wrong with its arguments', async () => {
    const badJob = await exec(['--job', 'train']);
    expect(badJob.code).toBe(2);
    expect(badJob.stderr).toContain("invalid --job 'train': expected a job id");
    const noServer = await exec(['--job', '0123456789ab']);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain(
      'dstack runner exec needs --server URL and a runner token (--token, --token-file or DSTACK_TOKEN)',
    );
    const noFile = await exec(['--job', '0123456789ab', '--token-file', '/nonexistent/token']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("cannot read --token-file '/nonexistent/token': ENOENT");
    const noJob = await exec(['--server', 'http://127.0.0.1:9']);
    expect(noJob.code).toBe(2);
    expect(noJob.stderr).toContain("required option '--job <id>' not specified");
  });

  it('reads the token file once and deletes it, and says at once when the server is a name that does not resolve', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'dstack-exec-')), 'token');
    await writeFile(file, 'dst_not-a-real-token\n', { mode: 0o600 });
    // A refused connection is a server restarting, waited for (slurm.test.ts); a wrong name is not.
    const url = 'http://no-such-host.invalid:9';
    const r = await exec(['--job', '0123456789ab', '--server', url, '--token-file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach the dstack server at ${url}`);
    expect(r.stderr).toContain('ENOTFOUND');
    expect(r.stderr).not.toContain('trying again');
    const again = await exec(['--job', '0123456789ab', '--token-file', file]);
    expect(again.stderr).toContain(`cannot read --token-file '${file}': ENOENT`);
  });

  it("says where a refused token came from, and why a job's token may be refused", async () => {
    expect((await sb.dstack(['status'])).code).toBe(0); // the embedded server answers from now on
    const { url } = (await readLocalServer(sb.home))!.info;
    const file = join(await mkdtemp(join(tmpdir(), 'dstack-exec-')), 'token');
    await writeFile(file, 'dst_not-a-real-token\n', { mode: 0o600 });
    const r = await exec(['--job', '0123456789ab', '--server', url, '--token-file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `the server at ${url} refused the runner token (--token-file ${file}); it was replaced (dstack runners ` +
        'token) or deleted (dstack runners delete), which fails the jobs given it, or it is not a token of this server',
    );
  });
});

describe('the lean runner exec entry point', () => {
  it('names an option it does not know, as the CLI would refuse it', async () => {
    const r = await new Promise<Result>((resolve) => {
      execFile(process.execPath, [ENTRY, '--job', '0123456789ab', '--jbo', 'x'], (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--jbo'");
  });
});
