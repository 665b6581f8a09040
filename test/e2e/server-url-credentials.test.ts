/** A server URL with a user name or password is refused, and the refusal does not print the password. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

const WHY =
  'it holds a user name or password (USER:PASSWORD@), which dstack never sends (the server checks its token): ' +
  'give the URL without them';

describe('a server URL with credentials', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(() => sb.dispose());

  it('is refused from DSTACK_SERVER, --server and a profile, naming it with the password masked', async () => {
    const env = { DSTACK_SERVER: 'http://ops:hunter2@127.0.0.1:1', DSTACK_TOKEN: 'dst_nope' };
    const status = await sb.dstack(['status'], { env });
    expect(status.stderr).toBe(`error: invalid DSTACK_SERVER 'http://ops:***@127.0.0.1:1': ${WHY}\n`);
    expect(status.code).toBe(2);

    const runner = await sb.dstack(['runner', 'start', '--server', 'http://:hunter2@127.0.0.1:1'], {
      env: { DSTACK_TOKEN: 'dst_nope' },
    });
    expect(runner.stderr).toBe(`error: invalid --server 'http://:***@127.0.0.1:1': ${WHY}\n`);
    expect(runner.code).toBe(2);

    const config = await sb.dstack(['config', '--server', 'https://ops:hunter2@dstack.example.com', '--token', 'x']);
    expect(config.stderr).toBe(`error: invalid --server 'https://ops:***@dstack.example.com': ${WHY}\n`);

    const file = join(sb.home, 'config.yml');
    await mkdir(sb.home, { recursive: true });
    await writeFile(file, 'current: x\nprofiles:\n  x:\n    server: http://ops:hunter2@h:3000\n    token: dst_x\n');
    const profile = await sb.dstack(['status']);
    expect(profile.stderr).toBe(`error: ${file}:4:13: profile 'x' has server 'http://ops:***@h:3000': ${WHY}\n`);
    for (const r of [status, runner, config, profile]) expect(r.stderr + r.stdout).not.toContain('hunter2');
  });
});
