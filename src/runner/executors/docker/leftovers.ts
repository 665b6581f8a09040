/**
 * Containers a crashed runner left: found by the label of its work dir and removed when the
 * runner starts again (the server fails their jobs: `runner lost`, or `runner restarted` at
 * its register). A runner that is not root first gets back the files they wrote, which the
 * crash kept them from giving back (ownership.ts), so that their jobs' folders can be removed.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type Docker from 'dockerode';
import { CONTAINER_SCRIPT, JOB_LABEL, WORK_ROOT_LABEL } from './container-spec.js';
import { giveBackAfter, ownerOfJobFiles, type OwnedMount } from './ownership.js';

/** Where dstack's own files are mounted in a job's container. */
const DSTACK_DIR = CONTAINER_SCRIPT.slice(0, CONTAINER_SCRIPT.lastIndexOf('/') + 1);

/** Remove this runner's leftover containers from the engine of `docker`, which answered; the job ids they ran. */
export async function cleanDockerLeftovers(docker: Docker, workRoot: string): Promise<string[]> {
  const found = await docker.listContainers({ all: true, filters: { label: [`${WORK_ROOT_LABEL}=${workRoot}`] } });
  const owner = found.length > 0 ? await ownerOfJobFiles(docker) : undefined;
  for (const info of found) {
    await docker.getContainer(info.Id).remove({ force: true, v: true });
    // Not giving them back leaves the job's folder for the trash, which says so.
    if (owner) await giveBackAfter(docker, info.Image, writtenMounts(info), owner, info.Labels).catch(() => {});
    // Its script (the job's commands, with their variables' values) and its mark, beside the runner's jobs.
    for (const m of info.Mounts) if (m.Destination.startsWith(DSTACK_DIR)) await rm(m.Source, { force: true });
  }
  return found.map((info) => info.Labels[JOB_LABEL] ?? info.Id);
}

/** The host folders a container could write to, less dstack's own files in it (its script, its mark). */
function writtenMounts(info: Docker.ContainerInfo): OwnedMount[] {
  return info.Mounts.filter((m) => m.Type === 'bind' && m.RW && !m.Destination.startsWith(DSTACK_DIR))
    .filter((m) => existsSync(m.Source))
    .map((m) => ({ host: m.Source, container: m.Destination }));
}
