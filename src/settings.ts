/**
 * Every setting that comes from the environment, read in this one module.
 * Flags override these; these override the defaults.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './core/errors.js';
import { LEVELS, type Level } from './logger.js';
import { STOP_GRACE_RULE, stopGraceSeconds } from './core/request-limits.js';
import { parseSize } from './core/resources.js';

export interface Settings {
  /** `DSTACK_HOME`, default `~/.dstack`: CLI config, embedded server data, runner work dirs. */
  home: string;
  /** `DSTACK_SERVER` + `DSTACK_TOKEN`: a server to use instead of the embedded one. */
  server?: { url: string; token: string };
  /** `DSTACK_SERVER` alone: a mistake for a command that talks to a server (it would use another), the URL of `dstack runner start`. */
  serverUrl?: string;
  /** `DSTACK_TOKEN` alone: the token of `dstack runner start --server URL` and `dstack config --server URL` (kept out of the command line). */
  token?: string;
  /** `DSTACK_PROFILE`: which profile of config.yml to use. */
  profile?: string;
  /** `DSTACK_DEBUG=1`: stack traces on errors. */
  debug: boolean;
  /** `DSTACK_LOG_LEVEL`: debug | info | warn | error (server and runner logs). */
  logLevel: Level;
  /** `DSTACK_STOP_GRACE`: seconds between SIGTERM and SIGKILL on stop (default 10). */
  stopGraceSeconds: number;
  /** `DSTACK_STORAGE`: where `dstack server` keeps blobs: a folder or s3://bucket/prefix (default <data dir>/artifacts). */
  storage?: string;
  /** `DSTACK_DATABASE_URL`: postgres://… for `dstack server` to keep its state in PostgreSQL (default SQLite). */
  database?: string;
  /**
   * For an S3 store, what the AWS SDK is given explicitly: `AWS_ENDPOINT_URL_S3` or
   * `AWS_ENDPOINT_URL` (an S3-compatible server), `AWS_REGION` or `AWS_DEFAULT_REGION`,
   * `DSTACK_S3_PATH_STYLE=0|1` (default: path-style with an endpoint). Credentials the SDK reads itself.
   */
  s3: { endpoint?: string; endpointSetting?: string; region?: string; forcePathStyle?: boolean };
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const settings: Settings = {
    home: env.DSTACK_HOME || join(homedir(), '.dstack'),
    debug: onOff('DSTACK_DEBUG', env.DSTACK_DEBUG) ?? false,
    logLevel: logLevel(env.DSTACK_LOG_LEVEL),
    stopGraceSeconds: stopGrace(env.DSTACK_STOP_GRACE),
    s3: {},
  };
  if (env.DSTACK_SERVER && env.DSTACK_TOKEN) settings.server = { url: env.DSTACK_SERVER, token: env.DSTACK_TOKEN };
  if (env.DSTACK_SERVER) settings.serverUrl = env.DSTACK_SERVER;
  if (env.DSTACK_TOKEN) settings.token = env.DSTACK_TOKEN;
  if (env.DSTACK_PROFILE) settings.profile = env.DSTACK_PROFILE;
  if (env.DSTACK_STORAGE) settings.storage = env.DSTACK_STORAGE;
  if (env.DSTACK_DATABASE_URL) settings.database = env.DSTACK_DATABASE_URL;
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (endpoint) {
    settings.s3.endpoint = endpoint;
    settings.s3.endpointSetting = env.AWS_ENDPOINT_URL_S3 ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
  }
  if (region) settings.s3.region = region;
  const pathStyle = onOff('DSTACK_S3_PATH_STYLE', env.DSTACK_S3_PATH_STYLE);
  if (pathStyle !== undefined) settings.s3.forcePathStyle = pathStyle;
  return settings;
}

/**
 * A setting that is on or off: `1` or `true`, `0` or `false` (any case); undefined when unset.
 * Anything else was read one way in silence: `DSTACK_S3_PATH_STYLE=false` turned path-style on.
 */
function onOff(name: string, text: string | undefined): boolean | undefined {
  if (!text) return undefined;
  const value = text.toLowerCase();
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new UsageError(`invalid ${name} '${text}': expected 1 or true (on), 0 or false (off)`);
}

/**
 * `DSTACK_LOG_LEVEL`, in any case. An unknown level (`verbose`, `trace`) was taken as `info` in
 * silence: a user who asked for more saw no more and no reason why.
 */
function logLevel(text: string | undefined): Level {
  if (!text) return 'info';
  const level = text.toLowerCase();
  if ((LEVELS as readonly string[]).includes(level)) return level as Level;
  throw new UsageError(`invalid DSTACK_LOG_LEVEL '${text}': expected one of ${LEVELS.join(', ')}`);
}

/**
 * `DSTACK_STOP_GRACE`, as `dstack stop --grace` takes it: `10s` or `abc` was NaN, and a stop then
 * killed the job at once (`still running NaN s after SIGTERM`), its checkpoint unwritten.
 */
function stopGrace(text: string | undefined): number {
  if (!text) return 10;
  const seconds = stopGraceSeconds(text);
  if (seconds === undefined)
    throw new UsageError(`invalid DSTACK_STOP_GRACE '${text}': expected ${STOP_GRACE_RULE}, like 30`);
  return seconds;
}

/**
 * `DSTACK_MAX_LOG_STREAMS`: the log streams (`dstack logs -f`, `dstack run` in the foreground,
 * dashboard logs) one user may hold open at once on `dstack server`; undefined for the default (64).
 */
export function readLogStreamLimit(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.DSTACK_MAX_LOG_STREAMS;
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(
      `invalid DSTACK_MAX_LOG_STREAMS '${text}': expected a whole number of streams, 1 or more, like 64`,
    );
  return n;
}

/** Where the embedded server keeps its state. */
export function serverDataDir(home: string): string {
  return join(home, 'server');
}

/** Where the CLI keeps what it read from config files (src/config/plain-cache.ts). */
export function plainCacheDir(home: string): string {
  return join(home, 'cache', 'yaml');
}

export function runnerWorkDir(home: string): string {
  return join(home, 'runner');
}

/** DSTACK_HOME, for the message when a folder in it cannot be made (files/make-folder.ts). */
export function homeSetting(home: string): { setting: string; value: string } {
  return { setting: 'DSTACK_HOME', value: home };
}

/** Settings of the docker, python and custom providers (runner and CLI). */
export interface ProviderSettings {
  /** `DOCKER_HOST` (`unix:///path` or `tcp://host:port`), default the local engine's socket. */
  dockerHost: string;
  /** `DSTACK_DOCKER_NETWORK`: the network mode of job containers (`host`, `none`, `bridge`, a network name); default `host`. */
  dockerNetwork: string;
  /** `DSTACK_PYTHON_RUNTIME`: `host` (the runner's python3.X, the default) or `docker` (the `python:3.X` image). */
  pythonRuntime: 'host' | 'docker';
  /** `DSTACK_PROVIDER_TIMEOUT`: seconds a custom provider may take to make its jobs (default 300). */
  providerTimeoutSeconds: number;
}

/**
 * `planning`: for the CLI that runs custom providers, where a DSTACK_PROVIDER_TIMEOUT that is no
 * number of seconds is refused (it was 300 in silence: `=10m` waited five minutes). A runner,
 * which runs no provider, takes the default for it rather than fail every job.
 */
export function readProviderSettings(
  env: NodeJS.ProcessEnv = process.env,
  options: { planning?: boolean } = {},
): ProviderSettings {
  const runtime = env.DSTACK_PYTHON_RUNTIME || 'host';
  if (runtime !== 'host' && runtime !== 'docker') {
    throw new UsageError(`invalid DSTACK_PYTHON_RUNTIME '${runtime}': expected host or docker`);
  }
  const timeout = Number(env.DSTACK_PROVIDER_TIMEOUT || 300);
  if (options.planning && !(Number.isFinite(timeout) && timeout > 0)) {
    throw new UsageError(
      `invalid DSTACK_PROVIDER_TIMEOUT '${env.DSTACK_PROVIDER_TIMEOUT}': expected the seconds a custom provider ` +
        'may take, a number above 0 (default 300)',
    );
  }
  return {
    dockerHost: env.DOCKER_HOST || 'unix:///var/run/docker.sock',
    dockerNetwork: env.DSTACK_DOCKER_NETWORK || 'host',
    pythonRuntime: runtime,
    providerTimeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 300,
  };
}

/** How much of its cached virtualenvs a runner keeps (runner/venv-eviction.ts). */
export interface VenvCacheLimits {
  /** One unused for this long is removed, ms; 0: no age limit. */
  maxAgeMs: number;
  /** Past this total the least recently used are removed, bytes; 0: no size limit. */
  maxBytes: number;
}

export const DAY_MS = 24 * 3600 * 1000;

/** A week unused, or 20GB in all: a few virtualenvs with CUDA builds of torch. */
export const DEFAULT_VENV_CACHE: VenvCacheLimits = { maxAgeMs: 7 * DAY_MS, maxBytes: 20e9 };

/**
 * `DSTACK_VENV_CACHE_DAYS` and `DSTACK_VENV_CACHE_SIZE`, under what a runner's flags give
 * (`--venv-cache-days`, `--venv-cache-size`); 0 turns a limit off.
 */
export function readVenvCacheLimits(
  flags: { venvCacheDays?: string; venvCacheSize?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): VenvCacheLimits {
  const limits = { ...DEFAULT_VENV_CACHE };
  const days = given(flags.venvCacheDays, '--venv-cache-days', env.DSTACK_VENV_CACHE_DAYS, 'DSTACK_VENV_CACHE_DAYS');
  if (days) {
    const n = days.value.trim() === '' ? NaN : Number(days.value);
    if (!Number.isFinite(n) || n < 0)
      throw new UsageError(`invalid ${days.setting} '${days.value}': expected a number of days, or 0 for no age limit`);
    limits.maxAgeMs = n * DAY_MS;
  }
  const size = given(flags.venvCacheSize, '--venv-cache-size', env.DSTACK_VENV_CACHE_SIZE, 'DSTACK_VENV_CACHE_SIZE');
  if (size) {
    const bytes = parseSize(size.value);
    if (bytes === null)
      throw new UsageError(
        `invalid ${size.setting} '${size.value}': expected a size like 20GB, or 0 for no size limit`,
      );
    limits.maxBytes = bytes;
  }
  return limits;
}

/** A flag's value over its variable's, with the name a message gives it. */
function given(flag: string | undefined, flagName: string, variable: string | undefined, variableName: string) {
  if (flag !== undefined) return { value: flag, setting: flagName };
  return variable ? { value: variable, setting: variableName } : undefined;
}
