/**
 * What a provider's program leaves when the CLI running it is interrupted or dies: a Ctrl-C or
 * SIGTERM ends the program (its container removed) and removes its folder before the CLI
 * exits; a CLI killed outright leaves its container labelled with its host, pid and folder, and
 * the next containerized provider this host runs removes those whose CLI is gone.
 */
import { hostname, tmpdir } from 'node:os';
import { rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type Docker from 'dockerode';
import type { Execution } from '../../runner/executors/executor.js';

export const PROVIDER_LABEL = 'dstack.provider';
const HOST_LABEL = 'dstack.provider.host';
const PID_LABEL = 'dstack.provider.pid';
const IO_LABEL = 'dstack.provider.io';

/** The labels of a program's container: its provider, and what finds it again should this process die. */
export function programLabels(name: string, io: string): Record<string, string> {
  return { [PROVIDER_LABEL]: name, [HOST_LABEL]: hostname(), [PID_LABEL]: String(process.pid), [IO_LABEL]: io };
}

/** Remove the program containers, and their folders, of this host's CLIs that are gone. */
export async function removeProgramLeftovers(docker: Docker): Promise<void> {
  const found = await docker.listContainers({ all: true, filters: { label: [`${HOST_LABEL}=${hostname()}`] } });
  for (const info of found) {
    const pid = Number(info.Labels[PID_LABEL]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    await docker
      .getContainer(info.Id)
      .remove({ force: true, v: true })
      .catch(() => {});
    const io = info.Labels[IO_LABEL];
    // Only a folder of the kind this module makes: a label is anyone's to write.
    if (io && dirname(io) === tmpdir() && basename(io).startsWith('dstack-provider-')) {
      await rm(io, { recursive: true, force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Until the returned function is called, a SIGINT or SIGTERM ends the program (`starting`, once
 * it has started; `preparing` is aborted), removes `io`, says so, and exits as the signal asks
 * (130, 143). Without it the CLI died and left the program running, in its container or in its
 * own process group, which a terminal's Ctrl-C does not reach.
 */
export function endOnSignal(
  name: string,
  starting: () => Promise<Execution | undefined>,
  io: string,
  preparing: AbortController,
): () => void {
  const handle = (signal: NodeJS.Signals) => {
    preparing.abort(); // an image pull: no container is made
    void (async () => {
      const execution = await starting().catch(() => undefined);
      execution?.kill();
      await execution?.exit.catch(() => {});
      await rm(io, { recursive: true, force: true }).catch(() => {});
      process.stderr.write(`\ninterrupted while provider '${name}' ran: it was ended, and nothing runs\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.once('SIGINT', handle);
  process.once('SIGTERM', handle);
  return () => {
    process.off('SIGINT', handle);
    process.off('SIGTERM', handle);
  };
}
