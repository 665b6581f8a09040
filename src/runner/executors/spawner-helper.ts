/**
 * The spawner's helper process (spawner.ts): it starts jobs' processes, reports their pids and
 * exits, and once the process that started it is gone, ends what it started and the
 * containers it was told of, as a stop does.
 */
import type { EngineAddress } from './executor.js';

/** What the helper answers about a job it was asked to start. */
export type Reply =
  | { id: string; pid: number }
  | { id: string; error: string }
  | { id: string; code: number | null; signal: NodeJS.Signals | null };

/** Start `file args` (writing `scriptFile` first), its output to the socket under `id`. */
export interface SpawnMessage {
  id: string;
  file: string;
  argv0?: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  scriptFile?: { path: string; content: string };
}

/**
 * End `container` of the engine at `engine` (without `engine`: no more), or process group
 * `group` (with `release`: no more), should the process that started the helper die.
 */
export type GuardMessage = { container: string; engine?: EngineAddress } | { group: number; release?: true };

/**
 * The helper's program, run by `node -e` with its modules as arguments (it must not refer
 * to anything outside itself: its source text is what runs). `http` is loaded only when a
 * container must be stopped.
 */
export function helperMain(
  cp: typeof import('node:child_process'),
  net: typeof import('node:net'),
  fs: typeof import('node:fs'),
  http: () => typeof import('node:http'),
  socketPath: string,
  graceMs: number,
): void {
  const send = (reply: object) => process.connected && process.send?.(reply); // not to a process gone
  // The process groups of the jobs started here, and those it was told to guard. One is kept
  // while anything of it runs, also once its shell has exited: what the shell left in the
  // background (ended by the runner 2 s later) is this helper's to end should the runner die
  // meanwhile, and so is what ignores the SIGTERM that ended the shell after the runner died.
  const groups = new Set<number>();
  const signal = (sig: NodeJS.Signals | 0) => {
    for (const group of groups) {
      try {
        process.kill(-group, sig);
      } catch {
        groups.delete(group); // ESRCH: nothing of it is left
      }
    }
  };
  // The groups whose shell has exited, looked at every 100 ms and dropped once empty: then
  // their id may go to a new process, and a signal would reach a stranger's group. Until then
  // it cannot (Linux frees a pid only once no process has it as its group's), and a reuse
  // within 100 ms would take the kernel going round its whole pid space.
  const exited = new Set<number>();
  let looking: NodeJS.Timeout | undefined;
  const dropEnded = () => {
    for (const group of exited) {
      try {
        process.kill(-group, 0);
      } catch {
        groups.delete(group);
        exited.delete(group);
      }
    }
    if (exited.size === 0) looking = void clearInterval(looking);
  };
  // The containers of the docker executor's jobs that run now, and their engines.
  const containers = new Map<string, EngineAddress>();
  // `docker stop`: the engine sends SIGTERM, waits `t` seconds, then SIGKILL, and answers once
  // the container has stopped (it is left for the runner's next start to remove: it gives
  // the job's files back first). A failure is nothing more to do here.
  const stopContainer = (id: string, engine: EngineAddress) =>
    new Promise<void>((resolve) => {
      const path = `/containers/${encodeURIComponent(id)}/stop?t=${Math.ceil(graceMs / 1000)}&signal=SIGTERM`;
      const request = http().request(
        { ...engine, method: 'POST', path, timeout: graceMs + 30_000 },
        (response) => void response.resume().once('close', () => resolve()),
      );
      request.once('error', () => resolve());
      request.once('timeout', () => request.destroy());
      request.end();
    });
  // The process that started this one (a runner, a server with its runner) is gone: killed, or
  // exited without its jobs (its server could not stop them). Nobody would watch or report
  // them, the server fails them as lost, and a quiet one (training that rarely logs, so no
  // write to its closed output ends it) held its GPU until a runner started on that work dir.
  // End them as a stop does: SIGTERM, the grace, then SIGKILL for what is left.
  process.on('disconnect', () => {
    const deadline = Date.now() + graceMs;
    signal('SIGTERM');
    const stopped = Promise.all([...containers].map(([id, engine]) => stopContainer(id, engine)));
    const ended = new Promise<void>((resolve) => {
      const check = () => {
        signal(0); // drops the groups that have ended
        if (groups.size > 0 && Date.now() < deadline) return void setTimeout(check, 100);
        signal('SIGKILL');
        resolve();
      };
      check();
    });
    void Promise.all([stopped, ended]).then(() => process.exit(0));
  });
  // This process leads a session of its own, out of reach of what is sent to the runner's
  // group (a kill of the whole group, a terminal's Ctrl-C); these are for the runner alone
  // should one reach it anyway. A SIGTERM to every process (a service manager's, Slurm's
  // scancel) is the runner's to act on by stopping its jobs, which this one's death would fail.
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', () => {});
  // A socket to the server whose first bytes name the job and stream; written before the job gets it.
  const stream = (id: string, fd: number) =>
    new Promise<import('node:net').Socket>((resolve, reject) => {
      const s = net.connect(socketPath, () => s.write(`${id} ${fd}\n`, (e) => (e ? reject(e) : resolve(s))));
      s.once('error', reject);
    });
  process.on('message', (message: SpawnMessage | GuardMessage) => {
    if ('container' in message) {
      if (message.engine) containers.set(message.container, message.engine);
      else containers.delete(message.container);
      return;
    }
    if ('group' in message) {
      if (message.release) groups.delete(message.group);
      else groups.add(message.group);
      return;
    }
    const m = message;
    const script = m.scriptFile;
    const written = new Promise<void>((resolve, reject) =>
      script
        ? fs.writeFile(script.path, script.content, { mode: 0o600 }, (e) => (e ? reject(e) : resolve()))
        : resolve(),
    );
    Promise.all([stream(m.id, 1), stream(m.id, 2), written]).then(
      ([out, err]) => {
        let child: import('node:child_process').ChildProcess;
        try {
          child = cp.spawn(m.file, m.args, {
            cwd: m.cwd,
            env: m.env,
            detached: true,
            stdio: ['ignore', out, err],
            ...(m.argv0 === undefined ? {} : { argv0: m.argv0 }),
          });
        } catch (e) {
          out.destroy();
          err.destroy();
          return send({ id: m.id, error: String(e) });
        }
        // The job holds its own copies; destroy (not end: that would shut the socket down for the job too).
        out.destroy();
        err.destroy();
        child.once('error', (e) => send({ id: m.id, error: e.message }));
        if (child.pid === undefined) return;
        const group = child.pid;
        groups.add(group);
        send({ id: m.id, pid: group });
        child.once('exit', (code, sig) => {
          exited.add(group);
          dropEnded();
          if (exited.size > 0) looking ??= setInterval(dropEnded, 100).unref();
          send({ id: m.id, code, signal: sig });
          if (script) fs.unlink(script.path, () => {}); // bash has read it
        });
      },
      (e: Error) => send({ id: m.id, error: e.message }),
    );
  });
}
