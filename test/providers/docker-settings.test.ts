/** Settings and messages of the docker and python providers that need no engine. */
import { describe, expect, it } from 'vitest';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { PullProgress } from '../../src/runner/executors/docker/pull-progress.js';
import { majorMinor } from '../../src/core/job-needs.js';
import { readProviderSettings } from '../../src/settings.js';

describe('docker and python settings', () => {
  it('reads DOCKER_HOST as a socket or a tcp address, and refuses other schemes', () => {
    expect(parseDockerHost('unix:///run/docker.sock')).toEqual({
      label: '/run/docker.sock',
      options: { socketPath: '/run/docker.sock' },
    });
    expect(parseDockerHost('tcp://10.0.0.2:2376').options).toEqual({ host: '10.0.0.2', port: 2376, protocol: 'http' });
    expect(() => parseDockerHost('ssh://me@host')).toThrow(
      "DOCKER_HOST 'ssh://me@host' is not supported: use unix:///path/to/docker.sock or tcp://host:port",
    );
    expect(() => parseDockerHost('tcp://[::1:2375')).toThrow(
      "DOCKER_HOST 'tcp://[::1:2375' is not a valid address: use tcp://host:port (an IPv6 host in [ ])",
    );
  });

  it('defaults to the local socket, the host network, python on the host, and 300 s for providers', () => {
    expect(readProviderSettings({})).toEqual({
      dockerHost: 'unix:///var/run/docker.sock',
      dockerNetwork: 'host',
      pythonRuntime: 'host',
      providerTimeoutSeconds: 300,
    });
    expect(() => readProviderSettings({ DSTACK_PYTHON_RUNTIME: 'conda' })).toThrow(
      "invalid DSTACK_PYTHON_RUNTIME 'conda': expected host or docker",
    );
  });

  it('refuses a DSTACK_PROVIDER_TIMEOUT that is no number of seconds where providers run, not on a runner', () => {
    const planning = { planning: true };
    expect(readProviderSettings({ DSTACK_PROVIDER_TIMEOUT: '600' }, planning).providerTimeoutSeconds).toBe(600);
    for (const value of ['10m', '0', '-5', 'abc']) {
      // It was 300 s in silence: `10m` waited five minutes.
      expect(() => readProviderSettings({ DSTACK_PROVIDER_TIMEOUT: value }, planning)).toThrow(
        `invalid DSTACK_PROVIDER_TIMEOUT '${value}': expected the seconds a custom provider may take, a number above 0 (default 300)`,
      );
      expect(readProviderSettings({ DSTACK_PROVIDER_TIMEOUT: value }).providerTimeoutSeconds).toBe(300);
    }
  });

  it('takes a Python version to major.minor for the interpreter and the image', () => {
    expect(['3', '3.8', '3.10', '3.10.4'].map(majorMinor)).toEqual(['3', '3.8', '3.10', '3.10']);
  });

  it('sums up a pull in a line now and then, not a line per layer per chunk', () => {
    let now = 0;
    const progress = new PullProgress('python:3.11', 1000, () => now);
    const lines = [
      progress.update({ status: 'Pulling from library/python', id: '3.11' }),
      progress.update({ status: 'Pulling fs layer', id: 'a' }),
      progress.update({ status: 'Pulling fs layer', id: 'b' }),
      progress.update({ status: 'Downloading', id: 'a', progressDetail: { current: 1e6, total: 4e6 } }),
    ];
    now = 1500;
    lines.push(progress.update({ status: 'Downloading', id: 'b', progressDetail: { current: 2e6, total: 2e6 } }));
    lines.push(progress.update({ status: 'Pull complete', id: 'b' }));
    expect(lines).toEqual([
      undefined,
      'pulling python:3.11: 0 of 1 layers',
      undefined,
      undefined,
      'pulling python:3.11: 0 of 2 layers, 3.0 of 6.0 MB',
      undefined,
    ]);
    expect(progress.line()).toBe('pulling python:3.11: 1 of 2 layers, 3.0 of 6.0 MB');
  });
});
