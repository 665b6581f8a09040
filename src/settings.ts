/**
 * Every setting that comes from the environment, read in this one module.
 * Flags override these; these override the defaults.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Settings {
  /** `DSTACK_HOME`, default `~/.dstack`: CLI config, embedded server data, runner work dirs. */
  home: string;
  /** `DSTACK_SERVER` + `DSTACK_TOKEN`: a server to use instead of the embedded one. */
  server?: { url: string; token: string };
  /** `DSTACK_PROFILE`: which profile of config.yml to use. */
  profile?: string;
  /** `DSTACK_DEBUG=1`: stack traces on errors. */
  debug: boolean;
  /** `DSTACK_LOG_LEVEL`: debug | info | warn | error (server and runner logs). */
  logLevel: string;
  /** `DSTACK_STOP_GRACE`: seconds between SIGTERM and SIGKILL on stop (default 10). */
  stopGraceSeconds: number;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const settings: Settings = {
    home: env.DSTACK_HOME || join(homedir(), '.dstack'),
    debug: env.DSTACK_DEBUG === '1' || env.DSTACK_DEBUG === 'true',
    logLevel: env.DSTACK_LOG_LEVEL || 'info',
    stopGraceSeconds: Number(env.DSTACK_STOP_GRACE || 10),
  };
  if (env.DSTACK_SERVER && env.DSTACK_TOKEN) settings.server = { url: env.DSTACK_SERVER, token: env.DSTACK_TOKEN };
  if (env.DSTACK_PROFILE) settings.profile = env.DSTACK_PROFILE;
  return settings;
}

/** Where the embedded server keeps its state. */
export function serverDataDir(home: string): string {
  return join(home, 'server');
}

export function runnerWorkDir(home: string): string {
  return join(home, 'runner');
}
