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

/**
 * The engine at `label` that did not answer, why (`error`) and what to do, in words:
 * `/var/run/docker.sock (permission denied): uid 1000 may not use it; …`. A socket that is there
 * but not this user's to use wants another remedy than a dockerd that is not running.
 */
export function unanswered(label: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES') {
    const user = process.getuid ? `uid ${process.getuid()}` : 'this user';
    return (
      `${label} (permission denied): ${user} may not use it; add that user to the socket's group ` +
      "(most often 'docker'), or set DOCKER_HOST to a socket it may use"
    );
  }
  const why =
    code === 'ENOENT' ? 'no such socket' : code === 'ECONNREFUSED' ? 'connection refused' : (error as Error).message;
  return `${label} (${why}): start dockerd, or set DOCKER_HOST to its socket`;
}

/** A client of the engine at `host`, checked to answer; UnavailableError naming the socket when it does not. */
export async function connectDocker(host: string): Promise<Docker> {
  const endpoint = parseDockerHost(host);
  const docker = new Docker({ ...endpoint.options, timeout: 0 });
  try {
    await withTimeout(docker.ping(), 10_000);
  } catch (e) {
    throw new UnavailableError(`cannot reach the Docker engine at ${unanswered(endpoint.label, e)}`, { cause: e });
  }
  return docker;
}

/**
 * A client of the engine at `host` once it answers a ping, or why none does (`none answers at
 * /var/run/docker.sock (permission denied): …`, or a DOCKER_HOST it cannot use), for the runner
 * to tell with its abilities (runner/abilities.ts).
 */
export async function reachDocker(host: string): Promise<{ docker: Docker } | { problem: string }> {
  try {
    return { docker: await connectDocker(host) };
  } catch (e) {
    if (e instanceof InvalidError) return { problem: e.message };
    return { problem: `none answers at ${unanswered(parseDockerHost(host).label, (e as Error).cause)}` };
  }
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

/**
 * The engine's own message for an error (its JSON `message`), else the error's, without the
 * `(HTTP code 500) server error - ` dockerode puts before an answer it did not parse (a pull's).
 */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } }).json;
  if (json && typeof json.message === 'string') return json.message.trim();
  const message = (error as Error).message;
  const body = /^\(HTTP code \d+\) [^-]*- ([\s\S]*\S)\s*$/.exec(message)?.[1];
  return body ?? message;
}
