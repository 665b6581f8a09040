/** The docker executor of a runner: one per work dir, connected to the engine on first use. */
import { readProviderSettings } from '../../settings.js';
import { DockerExecutor } from './docker-executor.js';
import { WORK_ROOT_LABEL } from './docker/container-spec.js';

const executors = new Map<string, DockerExecutor>();

export function dockerExecutorFor(workRoot: string): DockerExecutor {
  let executor = executors.get(workRoot);
  if (executor === undefined) {
    const settings = readProviderSettings();
    executor = new DockerExecutor({
      host: settings.dockerHost,
      network: settings.dockerNetwork,
      scriptDir: workRoot,
      labels: { [WORK_ROOT_LABEL]: workRoot },
    });
    executors.set(workRoot, executor);
  }
  return executor;
}
