/**
 * Giving a job's files back to the runner's user. A container's processes are root unless its
 * image says otherwise, so what a job writes into its workspace (and its absolute artifact
 * paths, a cached virtualenv) belongs to root on the runner's host: a runner that is not root
 * could neither read it as artifacts nor remove it. The container's entry script chowns those
 * folders to the runner's uid:gid once the job's commands end, and marks that it did
 * (container-spec.ts); a container that ended before it could (SIGKILL: an abort, a stop past
 * its grace period, out of memory) or whose chown failed (an image whose USER is not root) is
 * followed by a short container of the same image that does it as root (`giveBackAfter`).
 */
import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { shellQuote } from '../../../core/variables.js';

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

/** What the entry script writes to its mark once the job's files are given back. */
const GIVEN_BACK = 'ok';

/**
 * Who a job's files go back to: the runner's user when it is not root, and only where the
 * engine's root is the host's. Under rootless Docker a container's root already is the
 * runner's user, and under userns-remap a subordinate uid: a chown to the runner's uid inside
 * would hand the files to yet another subordinate uid.
 */
export async function ownerOfJobFiles(docker: Docker): Promise<Owner | undefined> {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined || uid === 0) return undefined;
  const info = (await docker.info().catch(() => ({}))) as { SecurityOptions?: unknown };
  const options = Array.isArray(info.SecurityOptions) ? info.SecurityOptions.map(String) : [];
  return options.some((o) => /^name=(rootless|userns)(,|$)/.test(o)) ? undefined : { uid, gid };
}

/**
 * The entry script's last step: `paths` (in the container) to `owner`, then `mark` written.
 * chown's complaints are not the job's output: where it fails, `giveBackAfter` does it again.
 */
export function giveBackCommand(owner: Owner, paths: readonly string[], mark: string): string {
  const chown = `chown -R -h ${owner.uid}:${owner.gid} -- ${paths.map(shellQuote).join(' ')}`;
  return `${chown} 2>/dev/null && echo ${GIVEN_BACK} > ${shellQuote(mark)}`;
}

/** Whether the entry script gave the files back: its mark (a file on the host) says so. */
export async function wasGivenBack(markFile: string): Promise<boolean> {
  return (await readFile(markFile, 'utf8').catch(() => '')).trim() === GIVEN_BACK;
}

/**
 * Give `mounts` back to `owner` from a short container of `image`, as root (its USER may be
 * another), its entrypoint replaced by chown: for a container that ended without doing it.
 */
export async function giveBackAfter(
  docker: Docker,
  image: string,
  mounts: readonly OwnedMount[],
  owner: Owner,
  labels: Record<string, string>,
): Promise<void> {
  if (mounts.length === 0) return;
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ['chown'],
    Cmd: ['-R', '-h', `${owner.uid}:${owner.gid}`, '--', ...mounts.map((m) => m.container)],
    User: '0',
    Labels: labels,
    HostConfig: {
      Mounts: mounts.map((m): Docker.MountSettings => ({ Type: 'bind', Source: m.host, Target: m.container })),
      NetworkMode: 'none',
    },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`chown in a container of '${image}' exited with code ${StatusCode}`);
  } finally {
    await container.remove({ force: true, v: true }).catch(() => {});
  }
}
