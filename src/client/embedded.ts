/**
 * The embedded default: with no server configured, the CLI uses a local server that it
 * starts in the background on first use (127.0.0.1, a free port, a generated token).
 * A lock file makes sure two CLI calls at once start one server, not two.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { entryPoint } from '../cli/entry-points.js';
import { ConflictError, StorageFullError, UnavailableError } from '../core/errors.js';
import { formatSize } from '../core/resources.js';
import { makeChosenFolder } from '../files/make-folder.js';
import { explainWrite } from '../files/refused-write.js';
import { homeSetting, serverDataDir } from '../settings.js';
import { Client } from './client.js';
import { isAlive } from './process-alive.js';
import { openServerLog } from './server-log.js';

export interface LocalServerInfo {
  url: string;
  pid: number;
  /** The folder of its blob store, when that is on local disk: restores copy from it (files/local-copy.ts). */
  blobs?: string;
  /** The build it runs (`buildId`): the CLI of another build replaces it when idle (cli/local-server.ts). */
  build?: string;
  /** DOCKER_HOST where it started: its runner's container jobs use that engine (cli/local-server.ts). */
  dockerHost?: string;
  /** Its `SHELL_SETTINGS` that were set where it started: its jobs run with them. */
  shell?: Record<string, string>;
}

/**
 * What the local server's jobs take from the shell that started it: the programs they find
 * (`python3` from an activated venv or conda env) and the runner's settings for them. A shell
 * that sets these otherwise gets a server of its own once the runner is idle.
 */
export const SHELL_SETTINGS = [
  ...['PATH', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'PYTHONPATH', 'LD_LIBRARY_PATH'],
  ...['DSTACK_DOCKER_NETWORK', 'DSTACK_PYTHON_RUNTIME', 'DSTACK_STOP_GRACE'],
  ...['DSTACK_VENV_CACHE_DAYS', 'DSTACK_VENV_CACHE_SIZE'],
] as const;

/**
 * The shell settings a job on the host may give other results under: the programs and
 * libraries its commands find. The embedded server's host jobs count them in their keys; a
 * container's network, a stop's grace and how long virtualenvs stay cached do not change what a job makes.
 */
export const HOST_JOB_SETTINGS: readonly string[] = SHELL_SETTINGS.filter(
  (name) =>
    !['DSTACK_DOCKER_NETWORK', 'DSTACK_STOP_GRACE', 'DSTACK_VENV_CACHE_DAYS', 'DSTACK_VENV_CACHE_SIZE'].includes(name),
);

/** The shell settings `env` sets. */
export function shellSettingsOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SHELL_SETTINGS) if (env[name]) out[name] = env[name];
  return out;
}

export const files = (home: string) => {
  const dir = serverDataDir(home);
  return {
    dir,
    info: join(dir, 'server.json'),
    token: join(dir, 'token'),
    lock: join(dir, 'server.lock'),
    log: join(dir, 'server.log'),
    /** The pid of the server process that holds the folder, background or not (server/data-dir-claim.ts). */
    pid: join(dir, 'server.pid'),
  };
};

/**
 * A `dstack server` started by hand on the local server's data folder: the process that holds
 * it, while no background server is recorded there. The CLI cannot start its own beside it.
 */
export async function foregroundServer(home: string): Promise<number | undefined> {
  const f = files(home);
  const pid = Number((await readFile(f.pid, 'utf8').catch(() => '')).trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return undefined;
  const recorded = await readLocalServer(home);
  return recorded?.info.pid === pid ? undefined : pid;
}

/** Why the CLI cannot use or start the local server: `pid`, a `dstack server` in the foreground, holds its folder. */
export function foregroundServerMessage(home: string, pid: number): string {
  const { dir, token } = files(home);
  return (
    `a dstack server started with 'dstack server' (pid ${pid}) runs on ${dir}, the local server's folder, ` +
    `so the CLI cannot start its own there: use that server (dstack config --server URL --token - < ${token}, ` +
    `with the URL it printed at its start), stop it where it runs (Ctrl-C), or set DSTACK_HOME to another folder`
  );
}

export async function readLocalServer(home: string): Promise<{ info: LocalServerInfo; token: string } | undefined> {
  const f = files(home);
  try {
    const info = JSON.parse(await readFile(f.info, 'utf8')) as LocalServerInfo;
    const token = (await readFile(f.token, 'utf8')).trim();
    return { info, token };
  } catch {
    return undefined;
  }
}

/** A client of the local server when it is running and answers; never starts one. */
export async function healthy(home: string): Promise<Client | undefined> {
  const local = await readLocalServer(home);
  if (!local || !isAlive(local.info.pid)) return undefined;
  const client = new Client({
    url: local.info.url,
    token: local.token,
    localBlobs: local.info.blobs,
    localServer: { pid: local.info.pid, dataDir: files(home).dir },
  });
  try {
    await client.health();
    return client;
  } catch {
    return undefined;
  }
}

/** A client of the local server, starting the server first when it is not running. */
export async function ensureLocalServer(home: string, timeoutMs = 30_000): Promise<Client> {
  const running = await healthy(home);
  if (running) return running;
  const f = files(home);
  const recorded = await readLocalServer(home);
  if (recorded && isAlive(recorded.info.pid)) {
    // It is alive but did not answer at once (busy, or still starting): wait for it, never start a second one.
    return waitHealthy(home, Date.now() + timeoutMs);
  }
  const deadline = Date.now() + timeoutMs;
  try {
    await makeChosenFolder(f.dir, homeSetting(home), 0o700);
  } catch (e) {
    throw explainWrite(e, f.dir, STARTING, HOME_ADVICE);
  }
  while (Date.now() < deadline) {
    const lock = await tryLock(f.lock);
    if (lock) {
      try {
        const again = await healthy(home);
        if (again) return again;
        const foreground = await foregroundServer(home);
        if (foreground !== undefined) throw new ConflictError(foregroundServerMessage(home, foreground));
        const child = startDetached(home, f);
        return await waitHealthy(home, deadline, child);
      } finally {
        await rm(f.lock, { force: true });
      }
    }
    // Someone else is starting it: wait for them.
    const started = await healthy(home);
    if (started) return started;
    await sleep(100);
  }
  throw new UnavailableError(`the local dstack server did not start within ${timeoutMs / 1000}s; see ${f.log}`);
}

/** What the CLI was doing when a write under DSTACK_HOME failed, and what else the user can do. */
const STARTING = 'starting the local dstack server';
const HOME_ADVICE = 'set DSTACK_HOME to a folder on another disk';

/**
 * The start's lock, holding this process's pid. A write that fails (a full disk) removes the
 * lock it created: left empty, it was taken for a start under way, and every CLI call waited
 * 30 s for it. An empty one left all the same (a CLI killed between the two) is stale a second on.
 */
async function tryLock(path: string): Promise<boolean> {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw explainWrite(e, dirname(path), STARTING, HOME_ADVICE);
    // A lock left by a CLI that died: its owner is gone, it says no owner, or it is older than a start can take.
    const text = await readFile(path, 'utf8').catch(() => undefined);
    const owner = Number(text);
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    const ownerless = text === '' && age > 1000; // not one whose pid is being written this instant
    if (ownerless || (owner > 0 && !isAlive(owner)) || age > 60_000) await rm(path, { force: true });
    return false;
  }
  try {
    writeSync(fd, String(process.pid));
    return true;
  } catch (e) {
    await rm(path, { force: true });
    throw explainWrite(e, dirname(path), STARTING, HOME_ADVICE);
  } finally {
    closeSync(fd);
  }
}

function startDetached(home: string, f: ReturnType<typeof files>): ChildProcess {
  const main = entryPoint('main.js');
  let log: number;
  try {
    log = openServerLog(f.log);
  } catch (e) {
    throw explainWrite(e, f.dir, STARTING, HOME_ADVICE);
  }
  const child = spawn(process.execPath, [main, 'server', '--embedded'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, DSTACK_HOME: home },
  });
  child.unref();
  closeSync(log);
  return child;
}

/** Waits for the local server to answer; one this CLI started that exits is said at once, with its last words. */
async function waitHealthy(home: string, deadline: number, child?: ChildProcess): Promise<Client> {
  const { log, dir } = files(home);
  while (Date.now() < deadline) {
    const client = await healthy(home);
    if (client) return client;
    if (child && child.exitCode !== null) {
      // Its last words could not be written there: what is in the log is older.
      const full = await nearlyFull(dir);
      if (full !== undefined) {
        throw new StorageFullError(
          `the local dstack server exited as it started: the disk holding ${dir} is full ` +
            `(${formatSize(full)} free): free space on it, or ${HOME_ADVICE}`,
        );
      }
      const last = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').at(-1);
      throw new UnavailableError(`the local dstack server exited as it started${last ? `: ${last}` : ''} (see ${log})`);
    }
    await sleep(50);
  }
  throw new UnavailableError(`the local dstack server did not start; see ${log}`);
}

/** Less room than a server's start takes (its database, its log): the bytes free in `dir`'s file system; else undefined. */
async function nearlyFull(dir: string): Promise<number | undefined> {
  const fs = await statfs(dir).catch(() => undefined);
  if (fs === undefined) return undefined;
  const free = fs.bavail * fs.bsize;
  return free < START_ROOM ? free : undefined;
}

const START_ROOM = 4 << 20;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
