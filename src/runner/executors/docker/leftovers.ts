/**
 * Containers a crashed runner left: found by the label of its work dir and removed when the
 * runner starts again (the server has failed their jobs as `runner lost`).
 */
import { JOB_LABEL, WORK_ROOT_LABEL } from './container-spec.js';

/** Remove this runner's leftover containers; the job ids they ran. No engine: nothing to do. */
export async function cleanDockerLeftovers(dockerHost: string, workRoot: string): Promise<string[]> {
  let docker;
  try {
    // Loaded here, not at the top: dockerode costs every runner start ~150 ms, docker or not.
    const { connectDocker } = await import('./engine.js');
    docker = await connectDocker(dockerHost);
  } catch {
    return [];
  }
  const found = await docker.listContainers({ all: true, filters: { label: [`${WORK_ROOT_LABEL}=${workRoot}`] } });
  for (const info of found) await docker.getContainer(info.Id).remove({ force: true, v: true });
  return found.map((info) => info.Labels[JOB_LABEL] ?? info.Id);
}
