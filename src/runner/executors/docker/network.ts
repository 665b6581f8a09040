/**
 * The network a job's container gets (`DSTACK_DOCKER_NETWORK`): errors that name it say which
 * setting chose it, and a network that leaves the container only loopback is noted.
 */
import type Docker from 'dockerode';

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
  if (network === 'host' || network === 'none' || network.startsWith('container:')) return undefined;
  const info = await container.inspect();
  if (!info.State.Running) return undefined; // ended already: its endpoints are gone either way
  const networks = Object.values(info.NetworkSettings.Networks ?? {});
  if (networks.some((n) => n.EndpointID !== '')) return undefined;
  return (
    `the container has no network but loopback: this engine gives DSTACK_DOCKER_NETWORK=${network} ` +
    'no interface (a dockerd started with --bridge=none?); set it to host, or to a network the engine has'
  );
}
