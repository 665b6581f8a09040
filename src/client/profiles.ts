/**
 * CLI profiles in `$DSTACK_HOME/config.yml`: a server URL and token per name. The file is
 * the user's credential store (mode 0600), as ~/.kube/config or ~/.docker/config.json are.
 */
import { chmod, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readConfigFile } from '../config/config-text.js';
import { ConfigError } from '../core/errors.js';
import { makeChosenFolder } from '../files/make-folder.js';
import { explainWrite } from '../files/refused-write.js';
import { homeSetting } from '../settings.js';

export interface Profile {
  server: string;
  token: string;
}

export interface CliConfig {
  current?: string | undefined;
  profiles: Record<string, Profile>;
}

export const configPath = (home: string) => join(home, 'config.yml');

/** What a config.yml that cannot be read stops, and what to do. */
const UNREADABLE = 'it names the server and token dstack uses: fix it, or move it away to use the local server';

/**
 * The profiles of `home`'s config.yml; none without the file. A file that is there but cannot
 * be read is an error, not "no profiles": that would send a team user's jobs to the local server.
 */
export async function readConfig(home: string): Promise<CliConfig> {
  const file = configPath(home);
  const text = await readConfigFile(file, file, UNREADABLE);
  if (text === undefined) return { profiles: {} };
  // Loaded only when there is a file to read: most commands on the embedded default have none.
  const { parseCliConfig } = await import('./profiles-file.js');
  return parseCliConfig(text, file);
}

/**
 * Written whole beside it, then renamed over it: a write that fails (a full disk) leaves the
 * file as it was, where writing in place had emptied it, and every saved profile and token
 * with it. A link to the file (dotfiles kept elsewhere) stays a link: the file it leads to is replaced.
 */
export async function writeConfig(home: string, config: CliConfig): Promise<void> {
  const file = await realpath(configPath(home)).catch(() => configPath(home));
  const temp = `${file}.${process.pid}.tmp`;
  const { stringify } = await import('yaml');
  try {
    await makeChosenFolder(dirname(file), homeSetting(home), 0o700);
    await writeFile(temp, stringify(config), { mode: 0o600 });
    await chmod(temp, 0o600); // an older temp of this pid, left by a crash, kept its mode
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw explainWrite(e, dirname(file), `saving ${basename(file)} (left unchanged)`);
  }
}

/** The profile to use (with its name): the named one, else the current one; undefined means the embedded server. */
export async function activeProfile(home: string, name?: string): Promise<(Profile & { name: string }) | undefined> {
  const config = await readConfig(home);
  const chosen = name ?? config.current;
  if (chosen === undefined) return undefined;
  const profile = config.profiles[chosen];
  if (!profile) {
    const known = Object.keys(config.profiles).join(', ') || 'none';
    throw new ConfigError(`no profile '${chosen}' (profiles: ${known})`, {
      file: configPath(home),
    });
  }
  return { ...profile, name: chosen };
}
