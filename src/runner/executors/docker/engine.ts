/**
 * Reaching the Docker Engine API: `DOCKER_HOST` parsed into dockerode's options, and a ping
 * first, so that an engine that is not there is one clear error naming its socket.
 */
import Docker from 'dockerode';
import { InvalidError, UnavailableError } from '../../../core/errors.js';
import type { EngineAddress } from '../executor.js';

export interface DockerEndpoint {
  /** How messages name the engine: its socket path, or its tcp URL. */
  label: string;
  options: Docker.DockerOptions;
}

export function parseDockerHost(host: string): DockerEndpoint {
  if (host.startsWith('unix://'))
    return { label: host.slice('unix://'.length), options: { socketPath: host.slice(7) } };
  if (host.startsWith('/')) return { label: host, options: { socketPath: host } };
  if (/^(tcp|http):\/\//.test(host)) {
    const address = host.replace(/^tcp:/, 'http:');
    if (!URL.canParse(address))
      throw new InvalidError(`DOCKER_HOST '${host}' is not a valid address: use tcp://host:port (an IPv6 host in [ ])`);
    const url = new URL(address);
    return { label: host, options: { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' } };
  }
  throw new InvalidError(`DOCKER_HOST '${host}' is not supported: use unix:///path/to/docker.sock or tcp://host:port`);
}

/** The engine's address for a process without dockerode (the spawner's helper, ContainerGuard). */
export function engineAddress(host: string): EngineAddress {
  const { socketPath, host: name, port } = parseDockerHost(host).options;
  return socketPath !== undefined ? { socketPath } : { host: String(name), port: Number(port) };
}

/** Why a connection failed, in words: the socket is missing, refused, or not ours to use. */
function why(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such socket';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message;
}

/** A client of the engine at `host`, checked to answer; UnavailableError naming the socket when it does not. */
export async function connectDocker(host: string): Promise<Docker> {
  const endpoint = parseDockerHost(host);
  const docker = new Docker({ ...endpoint.options, timeout: 0 });
  try {
    await withTimeout(docker.ping(), 10_000);
  } catch (e) {
    throw new UnavailableError(
      `cannot reach the Docker engine at ${endpoint.label} (${why(e)}): start dockerd, or set DOCKER_HOST to its socket`,
      { cause: e },
    );
  }
  return docker;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** The HTTP status of an engine error (404: no such image or container), if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own message for an error (its JSON `message`), else the error's. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } }).json;
  if (json && typeof json.message === 'string') return json.message.trim();
  return (error as Error).message;
}
