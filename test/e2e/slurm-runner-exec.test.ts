/** `dstack runner exec`'s bad input: what a user (or a broken batch script) sees. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe('dstack runner exec', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(() => sb.dispose());

  it('says what is wrong with its arguments', async () => {
    const badJob = await sb.dstack(['runner', 'exec', '--job', 'train']);
    expect(badJob.code).toBe(2);
    expect(badJob.stderr).toContain("invalid --job 'train': expected a job id");
    const noServer = await sb.dstack(['runner', 'exec', '--job', '0123456789ab']);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain(
      'dstack runner exec needs --server URL and a runner token (--token, --token-file or DSTACK_TOKEN)',
    );
    const noFile = await sb.dstack(['runner', 'exec', '--job', '0123456789ab', '--token-file', '/nonexistent/token']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("cannot read --token-file '/nonexistent/token': ENOENT");
  });

  it('reads the token file once and deletes it, and says when the server cannot be reached', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'dstack-exec-')), 'token');
    await writeFile(file, 'dst_not-a-real-token\n', { mode: 0o600 });
    const r = await sb.dstack([
      'runner',
      'exec',
      '--job',
      '0123456789ab',
      '--server',
      'http://127.0.0.1:9',
      '--token-file',
      file,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the dstack server at http://127.0.0.1:9');
    const again = await sb.dstack(['runner', 'exec', '--job', '0123456789ab', '--token-file', file]);
    expect(again.stderr).toContain(`cannot read --token-file '${file}': ENOENT`);
  });
});
