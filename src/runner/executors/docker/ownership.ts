/**
 * Giving a job's files back to the runner's user. A container's processes are root unless its
 * image says otherwise, so what a job writes into its workspace (and its absolute artifact
 * paths, a cached virtualenv) belongs to root on the runner's host: a runner that is not root
 * could neither read it as artifacts nor remove it. The container's entry script chowns those
 * folders to the runner's uid:gid once the job's commands end (container-spec.ts). Whether it
 * did is then read from the files themselves, not from anything the container says: a job
 * runs as root there too, and could claim it. What is not the runner's after the container
 * ended (SIGKILL: an abort, a stop past its grace period, out of memory; a chown that failed,
 * as an image's user that is not root; a job that ended the entry script first) is given back
 * by a short container of the same image, as root (`giveBackAfter`).
 * An image whose USER is not root gets the folders first (`handToImageUser`), and they come
 * back to the runner's user, or to root where the runner is root, after its job.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { shellQuote } from '../../../core/variables.js';
import { answerIn, forEachLimit } from '../../../core/concurrency.js';

/** The user a job's files are given back to. */
export interface Owner {
  uid: number;
  gid: number;
}

/** A folder of the job's on the host, and where its container sees it. */
export interface OwnedMount {
  host: string;
  container: string;
}

/**
 * Who a job's files go back to: the runner's user when it is not root, and only where the
 * engine's root is the host's. Under rootless Docker a container's root already is the
 * runner's user, and under userns-remap a subordinate uid: a chown to the runner's uid inside
 * would hand the files to yet another subordinate uid.
 */
export async function ownerOfJobFiles(docker: Docker): Promise<Owner | undefined> {
  const { uid, gid } = runnerUser();
  if (uid === 0) return undefined;
  const info = (await docker.info().catch(() => ({}))) as { SecurityOptions?: unknown };
  const options = Array.isArray(info.SecurityOptions) ? info.SecurityOptions.map(String) : [];
  return options.some((o) => /^name=(rootless|userns)(,|$)/.test(o)) ? undefined : { uid, gid };
}

/** This process's user: whose a job's files are on the host once given back (root where it has no uids). */
export function runnerUser(): Owner {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/**
 * The entry script's last step: `paths` (in the container) to `owner`. chown's complaints are
 * not the job's output: where it fails, `giveBackAfter` does it again.
 */
export function giveBackCommand(owner: Owner, paths: readonly string[]): string {
  return `chown -R -h ${owner.uid}:${owner.gid} -- ${paths.map(shellQuote).join(' ')} 2>/dev/null`;
}

/**
 * Whether everything under `folders` (on the host, links not followed) is `owner`'s: what the
 * runner can then read, change and remove. Asked once the container has ended, when no process
 * of the job is left to write more. A folder it cannot list counts as not given back: a chown
 * as root costs one more container, never a file.
 */
export async function ownedBy(folders: readonly string[], owner: Owner): Promise<boolean> {
  // Level by level, LOOKUPS entries at a time: one at a time, a big workspace took seconds.
  let level = [...folders];
  let foreign = false;
  while (level.length > 0 && !foreign) {
    const below: string[] = [];
    await forEachLimit(level, LOOKUPS, async (path) => {
      if (foreign) return;
      const info = await lstat(path).catch(() => undefined);
      if (info === undefined) return; // never made, or removed by the job: nothing to give back
      if (info.uid !== owner.uid) foreign = true;
      if (foreign || !info.isDirectory()) return;
      const names = await readdir(path).catch(() => undefined);
      if (names === undefined) foreign = true;
      else for (const name of names) below.push(join(path, name));
    });
    level = below;
  }
  return !foreign;
}

/** File system calls in flight at once while reading owners. */
const LOOKUPS = 32;

/** The owner that files go back to where the runner is root: the container's root (the runner's user under rootless Docker). */
export const CONTAINER_ROOT: Owner = { uid: 0, gid: 0 };

/**
 * The user an image's containers run as (its USER: `1234`, `app`, `app:staff`), or undefined
 * when that is root (no USER, `root`, `0`, `0:100`).
 */
export function nonRootUser(user: string | undefined): string | undefined {
  const spec = (user ?? '').trim();
  const name = spec.split(':')[0]!;
  return name === '' || name === 'root' || name === '0' ? undefined : spec;
}

/**
 * Give `mounts` to the image's `user` before its job starts: the runner made them, so an image
 * whose USER is not root could not write its own workspace. chown runs in a short container
 * of the image, as root, so that a name is the image's (its /etc/passwd). The folders lie
 * under the runner's work dir (0700), where no other user of the host reaches them, whatever
 * uid they have there; they go back after the job (giveBackAfter).
 */
export function handToImageUser(
  docker: Docker,
  image: string,
  mounts: readonly OwnedMount[],
  user: string,
  labels: Record<string, string>,
  limitMs = CHOWN_MS,
): Promise<void> {
  return chownInContainer(docker, image, mounts, user, labels, limitMs);
}

/**
 * Give `mounts` back to `owner` from a short container of `image`, as root (its USER may be
 * another), its entrypoint replaced by chown: for a container that ended without doing it.
 */
export function giveBackAfter(
  docker: Docker,
  image: string,
  mounts: readonly OwnedMount[],
  owner: Owner,
  labels: Record<string, string>,
): Promise<void> {
  return chownInContainer(docker, image, mounts, `${owner.uid}:${owner.gid}`, labels);
}

/**
 * How long a chown container may take, ms, from its creation to its exit: an image whose
 * `chown` never ends, or an engine that stops answering meanwhile, must not hold the job (and
 * its stop) for good. A chown of a million files takes seconds.
 */
export const CHOWN_MS = 120_000;
/** Reading its log and removing it get this long each, past the limit (a runner's start removes what is left). */
const AFTER_MS = 10_000;

/**
 * The chown container runs the image's own `chown`, as root: it gets what a chown needs and no
 * more. The capabilities to change owners and to walk folders whatever their modes, one CPU,
 * bounded memory and processes, no network, and no way to gain privileges. Folders of any mode
 * are walked with DAC_OVERRIDE, never DAC_READ_SEARCH: that one also allows open_by_handle_at
 * (Docker's seccomp profile lets it through with the capability), by which a program of the
 * image opens any file of a mounted folder's filesystem on the host, outside every mount.
 */
export const CHOWN_CONFINEMENT: Readonly<Docker.HostConfig> = {
  CapDrop: ['ALL'],
  CapAdd: ['CHOWN', 'DAC_OVERRIDE'],
  SecurityOpt: ['no-new-privileges'],
  NanoCpus: 1e9,
  Memory: 256 * 2 ** 20,
  MemorySwap: 256 * 2 ** 20,
  PidsLimit: 64,
  NetworkMode: 'none',
};

async function chownInContainer(
  docker: Docker,
  image: string,
  mounts: readonly OwnedMount[],
  owner: string,
  labels: Record<string, string>,
  limitMs = CHOWN_MS,
): Promise<void> {
  if (mounts.length === 0) return;
  const deadline = Date.now() + limitMs;
  const left = () => Math.max(0, deadline - Date.now());
  const timedOut = () => new Error(`chown in a container of '${image}' did not end in ${limitMs / 1000} s`);
  const container = await answerIn(
    docker.createContainer({
      Image: image,
      Entrypoint: ['chown'],
      Cmd: ['-R', '-h', owner, '--', ...mounts.map((m) => m.container)],
      User: '0',
      Labels: labels,
      HostConfig: {
        Mounts: mounts.map((m): Docker.MountSettings => ({ Type: 'bind', Source: m.host, Target: m.container })),
        ...CHOWN_CONFINEMENT,
      },
    }),
    left(),
    timedOut,
  );
  const waiting = new AbortController();
  try {
    await answerIn(container.start(), left(), timedOut);
    const wait = container.wait({ abortSignal: waiting.signal }) as Promise<{ StatusCode: number }>;
    const { StatusCode } = await answerIn(wait, left(), timedOut);
    if (StatusCode !== 0) {
      const said = await answerIn(container.logs({ stdout: true, stderr: true }), AFTER_MS).then(framesText, () => '');
      throw new Error(`chown in a container of '${image}' exited with code ${StatusCode}${said && `: ${said}`}`);
    }
  } finally {
    waiting.abort();
    await answerIn(container.remove({ force: true, v: true }), AFTER_MS).catch(() => {});
  }
}

/** The text of a container's log as the engine sends it without a TTY: frames of an 8-byte header and a payload. */
function framesText(log: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= log.length; at += 8 + log.readUInt32BE(at + 4)) {
    parts.push(log.subarray(at + 8, at + 8 + log.readUInt32BE(at + 4)));
  }
  return Buffer.concat(parts).toString('utf8').trim().split('\n').slice(-3).join('; ');
}
