/**
 * dstack's files read as they are or refused with the file, line and field: config.yml (the
 * server and token to use) and the project's .dstack/*.yaml. None of these starts a server.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe("dstack's files", () => {
  let sb: Sandbox;
  let config: string;
  beforeAll(async () => {
    sb = await Sandbox.create();
    config = join(sb.home, 'config.yml');
    await mkdir(sb.home, { recursive: true });
  });
  afterAll(() => sb.dispose());

  const noLocalServer = () => expect(existsSync(join(sb.home, 'server', 'server.json'))).toBe(false);

  it('names the line of a YAML error in config.yml, as a user error, not an internal one', async () => {
    await writeFile(config, 'current: x\nprofiles:\n  x:\n\tserver: http://h\n');
    const r = await sb.dstack(['status']);
    expect(r.stderr).toBe(`error: ${config}:4:1: Tabs are not allowed as indentation\n`);
    expect(r.code).toBe(2);
    noLocalServer();
  });

  it('refuses a config.yml it cannot read rather than run on the local server', async () => {
    await rm(config);
    await mkdir(config);
    const r = await sb.dstack(['status']);
    expect(r.stderr).toBe(
      `error: ${config}: is a folder, not a file; it names the server and token dstack uses: ` +
        'fix it, or move it away to use the local server\n',
    );
    expect(r.code).toBe(2);
    noLocalServer();
    await rm(config, { recursive: true });
  });

  it('names config.yml, the line and the profile of a server that is not an http(s) URL', async () => {
    await writeFile(config, 'current: x\nprofiles:\n  x:\n    server: ftp://x\n    token: dst_t\n');
    const r = await sb.dstack(['status']);
    expect(r.stderr).toBe(`error: ${config}:4:13: profile 'x' has server 'ftp://x': give an http:// or https:// URL\n`);
    expect(r.code).toBe(2);
    await rm(config);
  });

  it('says a --server port is out of range, not that the URL is not http://', async () => {
    const r = await sb.dstack(['config', '--server', 'http://h:99999', '--token', 'dst_t']);
    expect(r.stderr).toBe("error: invalid --server 'http://h:99999': port 99999 is out of range (1 to 65535)\n");
    expect(r.code).toBe(2);
  });

  it('refuses a workflows.yaml that is not UTF-8 at the line of the byte, rather than run U+FFFD', async () => {
    await writeFile(
      join(sb.root, '.dstack', 'workflows.yaml'),
      Buffer.from('workflows:\n  - name: hello\n    commands:\n      - echo caf\xe9\n', 'latin1'),
    );
    const r = await sb.dstack(['run', 'hello']);
    expect(r.stderr).toBe(
      "error: .dstack/workflows.yaml:4:17: byte 0xe9 (in Latin-1, 'é') is not UTF-8 text: dstack reads its config " +
        'files as UTF-8 and changes none of their text; save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)\n',
    );
    expect(r.code).toBe(2);
    noLocalServer();
  });

  it('says a workflows.yaml that links to a missing file is such a link', async () => {
    await rm(join(sb.root, '.dstack', 'workflows.yaml'));
    await symlink('../../shared/workflows.yaml', join(sb.root, '.dstack', 'workflows.yaml'));
    const r = await sb.dstack(['run', 'hello']);
    expect(r.stderr).toBe(
      'error: .dstack/workflows.yaml: is a link to ../../shared/workflows.yaml, which does not exist: ' +
        'fix the link or remove it\n',
    );
    expect(r.code).toBe(2);
    await rm(join(sb.root, '.dstack', 'workflows.yaml'));
  });

  it('refuses an unknown key in providers.yaml, with the key meant, rather than run the provider without it', async () => {
    await sb.write({
      '.dstack/workflows.yaml': 'workflows:\n  - name: hello\n    provider: greet\n',
      '.dstack/providers.yaml': 'providers:\n  - name: greet\n    comands:\n      - python3 greet.py\n',
    });
    const r = await sb.dstack(['run', 'hello']);
    expect(r.stderr).toBe(
      "error: .dstack/providers.yaml:3:5: unknown key 'comands' in provider 'greet' (did you mean 'commands'?)\n",
    );
    expect(r.code).toBe(2);
    noLocalServer();
  });
});
