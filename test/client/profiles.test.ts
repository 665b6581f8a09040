import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig, writeConfig } from '../../src/client/profiles.js';
import { ConfigError } from '../../src/core/errors.js';

let home: string;
let file: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'dstack-profiles-'));
  file = join(home, 'config.yml');
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** The message of the ConfigError reading `text` as config.yml gives. */
async function errorOf(text: string): Promise<string> {
  writeFileSync(file, text);
  const error = await readConfig(home).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).message;
}

const profile = (server: string) => `current: x\nprofiles:\n  x:\n    server: ${server}\n    token: dst_t\n`;

describe('readConfig', () => {
  it('reads what writeConfig wrote, and no file or an empty one as no profiles', async () => {
    expect(await readConfig(home)).toEqual({ profiles: {} });
    writeFileSync(file, '# nothing yet\n');
    expect(await readConfig(home)).toEqual({ profiles: {} });
    const config = { current: 'team', profiles: { team: { server: 'http://h:3000', token: '0123' } } };
    await writeConfig(home, config);
    expect(await readConfig(home)).toEqual(config);
  });

  it('names the file, line and column of a YAML syntax error, tabs included', async () => {
    expect(await errorOf('profiles:\n  x:\n    server: http://h\n    token: [t\n')).toBe(
      `${file}:4:12: this [ is never closed: end the list with ], or write it one item a line ('- item')`,
    );
    expect(await errorOf('profiles:\n  x:\n\tserver: http://h\n')).toBe(
      `${file}:3:1: Tabs are not allowed as indentation`,
    );
  });

  it('refuses a config.yml it cannot read rather than use the local server', async () => {
    mkdirSync(file);
    await expect(readConfig(home)).rejects.toThrow(
      `${file}: is a folder, not a file; it names the server and token dstack uses: ` +
        'fix it, or move it away to use the local server',
    );
    rmSync(file, { recursive: true });
    symlinkSync(file, file); // a link to itself: ELOOP, as EACCES is, is "cannot be read"
    await expect(readConfig(home)).rejects.toThrow(
      `${file}: cannot be read: ELOOP: too many symbolic links encountered, open '${file}'; it names the server`,
    );
  });

  it('names the profile and line of a server that is not an http(s) URL, or whose port is out of range', async () => {
    expect(await errorOf(profile('ftp://x'))).toBe(
      `${file}:4:13: profile 'x' has server 'ftp://x': give an http:// or https:// URL`,
    );
    expect(await errorOf(profile('http://h:99999'))).toBe(
      `${file}:4:13: profile 'x' has server 'http://h:99999': port 99999 is out of range (1 to 65535)`,
    );
  });

  it('names an unknown key with the key meant, and a missing one', async () => {
    expect(await errorOf('profile:\n  x: {}\n')).toBe(
      `${file}:1:1: unknown key 'profile' in the file (did you mean 'profiles'?)`,
    );
    expect(await errorOf('profiles:\n  x:\n    server: http://h\n    tokn: t\n')).toBe(
      `${file}:4:5: unknown key 'tokn' in profile 'x' (did you mean 'token'?)`,
    );
    expect(await errorOf('profiles:\n  x:\n    server: http://h\n')).toBe(
      `${file}:2:3: profile 'x' has no 'token' (dstack config --server URL --token TOKEN --profile x sets both)`,
    );
  });

  it('refuses a config.yml that is not UTF-8 at its line', async () => {
    writeFileSync(file, Buffer.from('profiles:\n  caf\xe9:\n', 'latin1'));
    await expect(readConfig(home)).rejects.toThrow(`${file}:2:6: byte 0xe9 (in Latin-1, 'é') is not UTF-8 text`);
  });
});
