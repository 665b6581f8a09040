/**
 * The network a job's container gets (`DSTACK_DOCKER_NETWORK`): errors that name it say which
 * setting chose it, and a network that leaves the container only loopback is noted.
 */
import type Docker from 'dockerode';

/** Whether `network` is a mode every engine has rather than a network to look up (`container:ID` joins another's). */
const builtIn = (network: string) => network === 'host' || network === 'none' || network.startsWith('container:');

/** The engine's message, with the setting to change when it is about the network (`network x not found`). */
export function naming(message: string, network: string): string {
  if (!message.includes(network) || !/not found|no such network/i.test(message)) return message;
  return `${message} (DSTACK_DOCKER_NETWORK=${network}: set it to host, none, bridge or a network this engine has)`;
}

/**
 * A note for the job's log when its running container has no interface beyond loopback though
 * its network mode is meant to give one (`bridge` on an engine started with `--bridge=none`).
 */
export async function loopbackOnly(container: Docker.Container, network: string): Promise<string | undefined> {
  if (builtIn(network)) return undefined;
  const info = await container.inspect();
  if (!info.State.Running) return undefined; // ended already: its endpoints are gone either way
  const networks = Object.values(info.NetworkSettings.Networks ?? {});
  if (networks.some((n) => n.EndpointID !== '')) return undefined;
  return (
    `the container has no network but loopback: this engine gives DSTACK_DOCKER_NETWORK=${network} ` +
    'no interface (a dockerd started with --bridge=none?); set it to host, or to a network the engine has'
  );
}

/** How missingNetwork's text begins. */
export const NO_NETWORK = 'its engine has no network';

/**
 * Why the engine could not give job containers `network` (DSTACK_DOCKER_NETWORK): it has no such
 * network (`bridge` on a dockerd started with `--bridge=none`, or a typo); undefined when it has
 * it, or cannot say. A runner tells this as why it takes no job with an image (runner/abilities.ts),
 * where it took each one and failed it with `network x not found`. The text up to its first ': '
 * stands alone, as the server names the runner with it (server/monitor.ts).
 */
export async function missingNetwork(docker: Docker, network: string): Promise<string | undefined> {
  if (builtIn(network)) return undefined;
  try {
    await docker.getNetwork(network).inspect();
    return undefined;
  } catch (e) {
    // Only a 404 says the network is not there: an engine that fails otherwise runs jobs or says why.
    if ((e as { statusCode?: unknown }).statusCode !== 404) return undefined;
  }
  return (
    `${NO_NETWORK} '${network}' (DSTACK_DOCKER_NETWORK): create it (docker network create ${network}), ` +
    'or set DSTACK_DOCKER_NETWORK to host, none or a network the engine has (docker network ls)'
  );
}
