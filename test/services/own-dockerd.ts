/**
 * A Docker engine of a test's own, beside the shared test engine (e2e/docker-env.ts): one the
 * test may stop and start again, as an admin restarting dockerd does, without ending the other
 * tests' containers. It runs as the shared one does (no bridge, no iptables) and holds the
 * busybox test image, copied from the shared engine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { parseDockerHost } from '../../src/runner/executors/docker/engine.js';
import { BUSYBOX, ensureDocker } from '../e2e/docker-env.js';

const START_MS = 60_000;

export class OwnDockerd {
  private process: ChildProcess | undefined;

  private constructor(private readonly dir: string) {}

  /** DOCKER_HOST of this engine. */
  get host(): string {
    return `unix://${join(this.dir, 'docker.sock')}`;
  }

  static async start(): Promise<OwnDockerd> {
    const shared = new Docker(parseDockerHost(await ensureDocker()).options);
    const engine = new OwnDockerd(await mkdtemp(join(tmpdir(), 'dstack-dockerd-')));
    await engine.startAgain();
    const own = engine.client();
    const saved = await shared.getImage(BUSYBOX).get();
    await new Promise<void>((resolve, reject) => {
      void own.loadImage(saved).then((stream) => own.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())));
    });
    return engine;
  }

  client(): Docker {
    return new Docker(parseDockerHost(this.host).options);
  }

  /** Start dockerd (again), and wait until it answers. */
  async startAgain(): Promise<void> {
    const log = await open(join(this.dir, 'dockerd.log'), 'a');
    this.process = spawn(
      'dockerd',
      [
        ...['--host', this.host, '--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'exec')],
        ...['--pidfile', join(this.dir, 'docker.pid'), '--bridge=none', '--iptables=false', '--ip-masq=false'],
        ...['--ip-forward=false', '--log-level', 'warn'],
      ],
      { stdio: ['ignore', log.fd, log.fd], detached: true },
    );
    await log.close();
    const client = this.client();
    const until = Date.now() + START_MS;
    while (
      !(await client.ping().then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > until || this.process.exitCode !== null)
        throw new Error(`dockerd did not start in ${START_MS / 1000} s; see ${join(this.dir, 'dockerd.log')}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Stop dockerd as `systemctl stop docker` does (SIGTERM: it stops its containers first), and wait for it to exit. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
