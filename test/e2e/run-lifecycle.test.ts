/** Running, failing, stopping, aborting and resuming through the real CLI. */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/core/records.js';
import { checkpointingWorkflow } from './checkpointing.js';
import { BIN, Sandbox, waitUntil } from './harness.js';

const WORKFLOWS = `workflows:
  - name: hello
    help: say hello
    commands:
      - echo "Hello, $name! PATH set=\${PATH:+yes}"
      - echo "NAME=$NAME job=$job_id run=$run_name"
      - echo to-stderr >&2
  - name: fail
    commands:
      - echo before
      - exit 3
      - echo never
  - name: after-fail
    depends-on: [fail]
    commands:
      - echo never
  - name: in-docker
    image: ubuntu:22.04
    commands:
      - echo hi
${checkpointingWorkflow('sleepy')}  - name: once
    commands:
      - mkdir -p checkpoint
      - |
        if [ -f checkpoint/started ]; then echo went on; exit 0; fi
        trap 'exit 0' TERM
        touch checkpoint/started
        echo ready
        while true; do sleep 0.1 || true; done
    artifacts: [checkpoint]
  - name: after-once
    depends-on: [once]
    commands: [echo after once]
  - name: links
    commands:
      - mkdir -p out/sub
      - echo ok > out/real.txt
      - ln -s real.txt out/inside
      - ln -s /etc/hostname out/host
      - ln -s ../../outside out/sub/up
      - mkdir -p out/a/b/c/d && ln -s ../../../.. out/a/b/c/d/y && ln -s y/../../../../.. out/a/b/c/d/x
    artifacts: [out]
  - name: huge
    commands: [echo never]
    resources:
      cpu: 99999
  - name: naps
    commands: [sleep 600]
  - name: huge-beside-naps
    depends-on: [naps, huge]
    commands: [echo never]
`;

describe('run lifecycle', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  global:\n    name: world\n  hello:\n    tag: v1\n',
    });
  });
  afterAll(() => sb.dispose());

  const runView = async (name: string) => await sb.runView(name);
  const jobOf = async (name: string) => (await runView(name)).jobs[0]!;

  it("lists workflows with run --help, and a workflow's variables with run WF --help", async () => {
    const all = await sb.dstack(['run', '--help']);
    expect(all.stdout).toContain(
      'usage: dstack run {hello,fail,after-fail,in-docker,sleepy,once,after-once,links,huge,naps,huge-beside-naps} ...',
    );
    expect(all.stdout).toMatch(/hello\s+say hello/);
    expect(all.stdout).toMatch(/fail\s+run fail workflow/);
    expect(all.stdout).toContain('    --no-cache      run every job again: reuse no earlier result\n');
    const one = await sb.dstack(['run', 'hello', '--help']);
    expect(one.stdout).toContain('usage: dstack run hello [--name NAME]\n');
    expect(one.stdout).toMatch(/\n {2}--name NAME +default is world\n/);
    // A variable named like one of dstack run's options cannot be set with it: the help says so.
    expect(one.stdout).toMatch(
      /\nvariables that dstack run's own options hide \(set them in \.dstack\/variables\.yaml\):\n {2}tag +default is v1\n/,
    );
    expect(one.stdout).toContain('\noptions:\n    -d, --detach ');
    expect(one.code).toBe(0);
  });

  it('refuses a --tag that is not a tag name before submitting anything', async () => {
    const before = await sb.dstack(['status', '--last', '100']);
    for (const [bad, args] of [
      ['Bad/Tag', ['--tag', 'Bad/Tag']],
      ['brand:new', ['--tag', 'brand:new']],
      ['-x', ['--tag=-x']],
    ] as const) {
      const r = await sb.dstack(['run', 'hello', ...args]);
      expect(r.stderr).toBe(
        `error: invalid tag '${bad}' (--tag): use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100\n`,
      );
      expect(r.code).toBe(2);
    }
    // A flag after --tag means its value was left out.
    expect(await sb.dstack(['run', 'hello', '--tag', '-x'])).toMatchObject({
      stderr: "error: option '--tag' needs a value (--tag TAG)\n",
      code: 2,
    });
    expect((await sb.dstack(['status', '--last', '100'])).stdout).toBe(before.stdout);
  });

  it('runs commands with variables substituted and in the environment, keeping $PATH for the shell', async () => {
    const r = await sb.dstack(['run', 'hello', '--name', 'dstack']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Hello, dstack! PATH set=yes');
    expect(r.stdout).toMatch(/NAME=dstack job=[0-9a-f]{12} run=[a-z]+-[a-z]+-\d+/);
    expect(r.stderr).toContain('to-stderr');
    const id = /job=([0-9a-f]{12})/.exec(r.stdout)![1]!;
    expect(await sb.dstack(['artifacts', id])).toMatchObject({ stdout: `job ${id} has no artifacts\n`, code: 0 });
  });

  it('detaches with -d, printing the run name', async () => {
    const r = await sb.dstack(['run', 'hello', '-d']);
    expect(r.code).toBe(0);
    const name = r.stdout.trim();
    expect(name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    await waitUntil(async () => (await runView(name)).status === 'DONE');
    const logs = await sb.dstack(['logs', name]);
    expect(logs.stdout).toContain('Hello, world!');
  });

  it('stops at the first failing command, exits non-zero, and fails the jobs that depend on it', async () => {
    const r = await sb.dstack(['run', 'after-fail']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('before');
    expect(r.stdout).not.toContain('never');
    const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
    expect(run!.status).toBe('FAILED');
    expect(run!.jobs.map((j) => [j.workflow, j.status, j.reason])).toEqual([
      ['fail', 'FAILED', 'exit code 3'],
      ['after-fail', 'FAILED', `dependency failed: fail (${run!.jobs[0]!.id})`],
    ]);
    const status = await sb.dstack(['status', run!.name]);
    expect(status.stdout).toMatch(/FAILED exit code 3/);
    // Following it keeps the result, as the run itself does: for the run, and for one of its jobs.
    const [fail, after] = run!.jobs;
    const follow = await sb.dstack(['logs', '-f', run!.name]);
    expect(follow.stdout).toBe('fail       | before\n');
    expect(follow.stderr).toBe(
      `[dstack] fail (${fail!.id}) ended FAILED: exit code 3\n` +
        `[dstack] after-fail (${after!.id}) ended FAILED: dependency failed: fail (${fail!.id})\n`,
    );
    expect(follow.code).toBe(1);
    expect((await sb.dstack(['logs', '-f', fail!.id])).code).toBe(1);
    // Read without -f, a job that printed nothing says how it ended; the read itself succeeded.
    const read = await sb.dstack(['logs', run!.name]);
    expect(read).toEqual({
      code: 0,
      stdout: 'fail       | before\n',
      stderr: `[dstack] after-fail (${after!.id}) ended FAILED: dependency failed: fail (${fail!.id})\n`,
    });
    expect(await sb.dstack(['logs', fail!.id])).toEqual({ code: 0, stdout: 'before\n', stderr: '' });
    const done = await sb.dstack(['run', 'hello', '-d']);
    expect((await sb.dstack(['logs', '-f', done.stdout.trim()])).code).toBe(0);
  });

  it('stops a running job with SIGTERM, saves its artifacts, and resumes it from them', async () => {
    const name = (await sb.dstack(['run', 'sleepy', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
    const running = await jobOf(name);
    const early = join(sb.root, '..', 'early-artifacts');
    for (const args of [[], ['-o', early]]) {
      const notYet = await sb.dstack(['artifacts', running.id, ...args]);
      expect(notYet.stderr).toBe(
        `error: job ${running.id} is RUNNING: its artifacts are saved when it ends or is stopped (dstack stop ${name} saves them)\n`,
      );
      expect(notYet.code).toBe(1);
    }
    await expect(access(early)).rejects.toThrow('ENOENT');
    const stop = await sb.dstack(['stop', name]);
    expect(stop.stdout).toMatch(/[0-9a-f]{12} sleepy STOPPING/);
    const stopped = await waitUntil(async () => {
      const job = await jobOf(name);
      return job.status === 'STOPPED' && job;
    });
    expect(stopped.reason).toBe('stopped by user');
    expect((await sb.dstack(['logs', name])).stdout).toContain('got SIGTERM');
    const out = join(sb.root, '..', 'stopped-artifacts');
    const restored = await sb.dstack(['artifacts', stopped.id, '--output', out]);
    // The embedded server's store is on this machine: the CLI copies from it rather than downloading.
    expect(restored.stdout).toContain(`to ${out} (2 copied from the local server's store)`);
    expect(await readFile(join(out, 'checkpoint/state'), 'utf8')).toBe('saved\n');

    const resume = await sb.dstack(['resume', stopped.id]);
    expect(resume.stdout).toMatch(/sleepy SUBMITTED/);
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('starting from 1'));
    const logs = (await sb.dstack(['logs', name])).stdout;
    expect(logs.indexOf('starting from 0')).toBeLessThan(logs.indexOf('starting from 1'));
    await sb.dstack(['stop', '--abort', name]);
    const aborted = await waitUntil(async () => {
      const job = await jobOf(name);
      return job.status === 'ABORTED' && job;
    });
    expect(aborted.reason).toBe('aborted by user');
  });

  it('aborts a running job at once, without saving artifacts', async () => {
    const name = (await sb.dstack(['run', 'sleepy', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
    const abort = await sb.dstack(['stop', '-a', name]);
    expect(abort.stdout).toMatch(/sleepy ABORTING/);
    const job = await waitUntil(async () => {
      const j = await jobOf(name);
      return j.status === 'ABORTED' && j;
    });
    expect((await sb.dstack(['logs', name])).stdout).not.toContain('got SIGTERM');
    expect((await sb.dstack(['artifacts', job.id])).stdout).toBe(
      `job ${job.id} declares artifacts (checkpoint) but saved none: it was aborted, and an aborted job saves none\n`,
    );
  });

  it('refuses to stop the local server while a job runs; --force stops the job as dstack stop does, and it resumes after', async () => {
    const name = (await sb.dstack(['run', 'sleepy', '-d', '--no-cache'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
    const { id } = await jobOf(name);
    const refused = await sb.dstack(['server', 'stop']);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^error: the local server is running 1 job on this machine:\\nJOB +WORKFLOW +STATUS +RUN *\\n${id} +sleepy +RUNNING +${name} *\\n`,
      ),
    );
    expect(refused.stderr).toContain(
      '\nwait for them or stop them (dstack stop RUN), or use dstack server stop --force: it stops them as ' +
        'dstack stop does (SIGTERM, the grace period, their artifacts saved; the jobs waiting on them stop too, ' +
        'and dstack resume RUN runs them all again)\n',
    );
    expect(refused.code).toBe(1);
    expect((await jobOf(name)).status).toBe('RUNNING');

    const forced = await sb.dstack(['server', 'stop', '--force']);
    expect(forced.stdout).toMatch(
      /^stopping 1 job; its artifacts are saved first \(Ctrl-C leaves the server finishing this in the background\)\nstopped the local server \(pid \d+;/,
    );
    expect(forced.code).toBe(0);
    // The next command starts the server again; the job kept what it saved.
    expect(await jobOf(name)).toMatchObject({ status: 'STOPPED', reason: 'stopped: the server shut down' });
    expect((await sb.dstack(['logs', name])).stdout).toContain('got SIGTERM');
    const out = join(sb.root, '..', 'shutdown-artifacts');
    const first = await sb.dstack(['artifacts', id, '--output', out]);
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain('replaced');
    expect(await readFile(join(out, 'checkpoint/state'), 'utf8')).toBe('saved\n');
    // What was there is replaced (a local edit too), and the download says so.
    await writeFile(join(out, 'checkpoint/state'), 'edited here\n');
    const again = await sb.dstack(['artifacts', id, '--output', out]);
    expect(again.stdout).toContain(`replaced 2 files that ${out} had (checkpoint/count, checkpoint/state)\n`);
    expect(await readFile(join(out, 'checkpoint/state'), 'utf8')).toBe('saved\n');
    const file = join(sb.root, '..', 'a-file');
    await writeFile(file, 'not a folder');
    for (const output of [file, join(file, 'below')]) {
      const onFile = await sb.dstack(['artifacts', id, '--output', output]);
      expect(onFile.stderr).toBe(
        `error: invalid --output '${output}': ${output} (or a folder above it) is a file; give a folder (it is made when missing)\n`,
      );
      expect(onFile.code).toBe(2);
    }
    const both = await sb.dstack(['artifacts', '-t', id, '-o', out]);
    expect(both.stderr).toBe(
      "error: --total lists each artifact's size and --output downloads the files: give one of them\n",
    );
    expect(both.code).toBe(2);
    expect((await sb.dstack(['resume', id])).code).toBe(0);
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('starting from 1'));
    await sb.dstack(['stop', '--abort', name]);
  });

  // A job stopped by other than `dstack stop RUN` (a stop of its id, the server's shutdown) stops the jobs waiting on it.
  for (const how of ['job', 'server'] as const) {
    it(`resumes a run whose job was stopped by ${how === 'job' ? 'its id' : 'the server shutting down'} whole: its waiting jobs too, and tags it`, async () => {
      const tag = `whole-${how}`;
      const name = (await sb.dstack(['run', 'after-once', '-d', '--no-cache', '--tag', tag])).stdout.trim();
      await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
      const [once] = (await runView(name)).jobs;
      if (how === 'job') await sb.dstack(['stop', once!.id]);
      else expect((await sb.dstack(['server', 'stop', '--force'])).code).toBe(0);
      const reason = how === 'job' ? 'stopped by user' : 'stopped: the server shut down';
      const stopped = await waitUntil(async () => {
        const jobs = (await runView(name)).jobs;
        return jobs.every((j) => j.status === 'STOPPED') && jobs;
      });
      expect(stopped.map((j) => [j.workflow, j.reason])).toEqual([
        ['once', reason],
        ['after-once', `dependency stopped: once (${once!.id})`],
      ]);
      const resume = await sb.dstack(['resume', name]);
      expect(resume.stdout).toMatch(/once SUBMITTED\n.* after-once SUBMITTED\n$/);
      const done = await waitUntil(async () => {
        const run = await runView(name);
        return run.status === 'DONE' && run;
      });
      expect(done.tag).toBe(tag);
      const logs = (await sb.dstack(['logs', name])).stdout;
      expect(logs).toContain('went on\n');
      expect(logs).toContain('after once\n');
    });
  }

  it("names the jobs a job's stop stops with it, and that the run's resume takes them all; a job's resume names those it left", async () => {
    const name = (await sb.dstack(['run', 'after-once', '-d', '--no-cache'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', name])).stdout.includes('ready'));
    const [once, after] = (await runView(name)).jobs;
    const stop = await sb.dstack(['stop', once!.id]);
    expect(stop.stdout).toBe(`${once!.id} once STOPPING\n`);
    expect(stop.stderr).toBe(
      `the jobs waiting on it stop with it: after-once (${after!.id})\n` +
        `once stopped, 'dstack resume ${name}' starts them all again\n`,
    );
    await sb.ended(name);
    // Following an older hint: the job alone resumes, and what waits on it is named, still stopped.
    const resume = await sb.dstack(['resume', once!.id]);
    expect(resume.stderr).toBe(
      `not resumed, though waiting on it: after-once (${after!.id}) STOPPED; 'dstack resume ${name}' resumes it too\n`,
    );
    expect((await sb.dstack(['resume', name])).stdout).toBe(`${after!.id} after-once SUBMITTED\n`);
    expect((await sb.ended(name)).status).toBe('DONE');
  });

  it(
    'stops a local server that does not answer, saying so, and kills it when it does not stop',
    { timeout: 60_000 },
    async () => {
      expect((await sb.dstack(['run', 'hello'])).code).toBe(0); // the server is running
      const { pid } = JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { pid: number };
      process.kill(pid, 'SIGSTOP'); // frozen: it neither answers nor handles its SIGTERM
      const r = await sb.dstack(['server', 'stop']);
      expect(r.stdout).toMatch(
        new RegExp(
          `^the local server does not answer; stopping it anyway\\nthe local server did not stop within 15 s: killed it \\(pid ${pid}; `,
        ),
      );
      expect(r.code).toBe(1);
      expect((await sb.dstack(['run', 'hello'])).code).toBe(0); // a new one starts
    },
  );

  it('fails a job this machine could never run, saying what it lacks', async () => {
    const r = await sb.dstack(['run', 'huge']);
    expect(r.stderr).toMatch(/ huge +FAILED +this machine does not have 99999 CPUs\n/);
    expect(r.code).toBe(1);
    // It never started, so its log is empty: `dstack logs` says why rather than nothing.
    const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
    const logs = await sb.dstack(['logs', run!.name]);
    expect(logs).toEqual({
      code: 0,
      stdout: '',
      stderr: `[dstack] huge (${run!.jobs[0]!.id}) ended FAILED: this machine does not have 99999 CPUs\n`,
    });
  });

  it('exits 1 from run -d when a job fails as it is submitted, the run name on stdout and why on stderr', async () => {
    const r = await sb.dstack(['run', 'huge', '-d']);
    const run = await sb.lastRun();
    expect(r).toEqual({
      code: 1,
      stdout: `${run.name}\n`,
      stderr: `huge (${run.jobs[0]!.id}) FAILED: this machine does not have 99999 CPUs\nrun ${run.name} FAILED\n`,
    });
  });

  it('names the jobs failed at submission, and says the others go on, when some of the run can run', async () => {
    const r = await sb.dstack(['run', 'huge-beside-naps', '-d']);
    const name = r.stdout.trim();
    try {
      const { jobs } = await runView(name);
      const id = (ref: string) => jobs.find((j) => j.ref === ref)!.id;
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `huge (${id('huge')}) FAILED: this machine does not have 99999 CPUs\n` +
          `huge-beside-naps (${id('huge-beside-naps')}) FAILED: dependency failed: huge (${id('huge')})\n` +
          `run ${name} will end FAILED; its other jobs go on (dstack status ${name})\n`,
      );
    } finally {
      await sb.dstack(['stop', '-a', name]);
    }
  });

  it('says why a job waits, in run and logs -f, and Ctrl-C detaches from it', async () => {
    /** The CLI started in the background: wait for text on its stderr, then Ctrl-C it. */
    const follow = (args: string[]) => {
      const child = sb.spawn(args);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      return {
        waitFor: (text: string) =>
          waitUntil(
            async () => stderr.includes(text),
            30_000,
            async () => stderr,
          ),
        interrupt: async () => (child.kill('SIGINT'), { code: await exited, stderr }),
        ended: async () => ({ code: await exited, stderr }),
      };
    };
    // A second run of a job that is running joins it, and waits for it.
    const running = (await sb.dstack(['run', 'sleepy', '-d'])).stdout.trim();
    await waitUntil(async () => (await sb.dstack(['logs', running])).stdout.includes('ready'));
    const waits = `[dstack] sleepy waits: waiting for the same job in ${running} (${(await jobOf(running)).id})\n`;
    const first = follow(['run', 'sleepy']);
    await first.waitFor(waits);
    const run = await first.interrupt();
    const name = /^run (\S+): sleepy/.exec(run.stderr)![1]!;
    const detached = (n: string) =>
      `\ndetached; run ${n} goes on. Follow it with 'dstack logs -f ${n}', stop it with 'dstack stop ${n}'.\n`;
    expect(run.stderr).toContain(detached(name));
    expect(run.code).toBe(130);
    expect(run.stderr.split(waits)).toHaveLength(2); // said once
    // Read without -f, the waiting job says where it stands.
    const joined = (await sb.runView(name)).jobs[0]!;
    expect(await sb.dstack(['logs', name])).toEqual({
      code: 0,
      stdout: '',
      stderr: `[dstack] sleepy (${joined.id}) is SUBMITTED: ${joined.reason}\n`,
    });
    expect(joined.reason).toBe(`waiting for the same job in ${running} (${(await jobOf(running)).id})`);
    const logs = follow(['logs', '-f', name]);
    await logs.waitFor(waits);
    expect((await logs.interrupt()).stderr).toBe(waits);

    // The local server goes away under a followed run: the run says so at once, rather than
    // retrying for minutes an address that died with it.
    const second = follow(['run', 'sleepy']);
    await second.waitFor(waits);
    const { pid } = JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { pid: number };
    expect((await sb.dstack(['server', 'stop', '--force'])).code).toBe(0);
    const cut = await second.ended();
    expect(cut.stderr).toContain(
      `error: the local dstack server (pid ${pid}) has stopped; 'dstack status' starts it again and shows how the jobs ended\n`,
    );
    expect(cut.code).toBe(1);
    // The next server's runner may have taken one up already.
    const again = /^run (\S+): sleepy/.exec(cut.stderr)![1]!;
    expect((await sb.dstack(['stop', name])).stdout).toMatch(/sleepy STOPP(ED|ING)/);
    expect((await sb.dstack(['stop', again])).stdout).toMatch(/sleepy STOPP(ED|ING)/);
  });

  it('keeps links inside an artifact, and names each link to outside it that it leaves out', async () => {
    const r = await sb.dstack(['run', 'links']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "[dstack] artifact 'out': left out out/host -> /etc/hostname (a link to outside the artifact)\n",
    );
    expect(r.stderr).toContain(
      "[dstack] artifact 'out': left out out/sub/up -> ../../outside (a link to outside the artifact)\n",
    );
    // Alone, x ends at out; through y (out itself), the kernel lands it at /.
    expect(r.stderr).toContain(
      "[dstack] artifact 'out': left out out/a/b/c/d/x -> y/../../../../.. (a link to outside the artifact)\n",
    );
    // out/sub held only the link left out: it is kept as an empty folder.
    expect(r.stderr).toContain('[dstack] saved artifacts: 3 files, 3B, 1 empty folder (');
    const name = /^run (\S+):/.exec(r.stderr)![1]!;
    const { id } = await jobOf(name);
    const listed = (await sb.dstack(['artifacts', id])).stdout;
    expect(listed).toMatch(/out +out\/inside +-> real\.txt\n/);
    expect(listed).toMatch(/out +out\/a\/b\/c\/d\/y +-> \.\.\/\.\.\/\.\.\/\.\.\n/);
    expect(listed).not.toContain('out/a/b/c/d/x');
    expect(listed).toMatch(/out +out\/sub\/\n/);
    expect(listed).not.toContain('host');
    const ofRun = await sb.dstack(['artifacts', name]);
    expect(ofRun.stderr).toBe(
      `error: '${name}' is a run, not a job: name one of its jobs ('dstack status ${name}' lists them)\n`,
    );
    expect(ofRun.code).toBe(1);
  });

  it('refuses to resume a job that is not stopped', async () => {
    const [run] = await sb.json<RunView[]>(['status', '--last', '10']);
    const done = (await sb.json<RunView[]>(['status', '--last', '10']))
      .flatMap((r) => r.jobs)
      .find((j) => j.status === 'DONE')!;
    expect(run).toBeDefined();
    const r = await sb.dstack(['resume', done.id]);
    expect(r.stderr).toContain(
      `error: job ${done.id} (${done.workflow}) is not stopped (it is DONE); only a stopped job resumes, or one whose resume failed before its commands started: run it again with dstack run ${done.workflow}`,
    );
    expect(r.code).toBe(1);
    const failed = (await sb.json<RunView[]>(['status', '--last', '20']))
      .flatMap((v) => v.jobs)
      .find((j) => j.status === 'FAILED' && j.reason === 'exit code 3')!;
    expect((await sb.dstack(['resume', failed.id])).stderr).toContain(
      `error: job ${failed.id} (fail) is not stopped (it is FAILED: exit code 3); only a stopped job resumes, or one whose resume failed before its commands started: run it again with dstack run fail`,
    );
  });

  // Running it needs a Docker engine: test/e2e/docker.test.ts.
  it('plans and validates an image workflow as a docker job', async () => {
    const dry = await sb.dstack(['run', 'in-docker', '--dry-run']);
    expect(dry.stdout).toMatch(/^1\. in-docker\n {3}provider +docker\n {3}image +ubuntu:22\.04$/m);
  });

  it('shows the last finished run when none is unfinished, and the last N with --last', async () => {
    const def = await sb.json<RunView[]>(['status']);
    expect(def).toHaveLength(1);
    const last = await sb.json<RunView[]>(['status', '--last', '3']);
    expect(last).toHaveLength(3);
    expect(last[0]!.submittedAt).toBeGreaterThanOrEqual(last[1]!.submittedAt);
  });
});

describe('the embedded server', () => {
  it('is started once when two CLI calls race to start it', async () => {
    const sb = await Sandbox.create();
    try {
      await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: a\n    commands: [echo a]\n' });
      const results = await Promise.all([sb.dstack(['status']), sb.dstack(['status']), sb.dstack(['run', 'a'])]);
      for (const r of results) expect(r.code).toBe(0);
      const log = await readFile(join(sb.home, 'server', 'server.log'), 'utf8');
      expect(log.match(/server listening on/g)).toHaveLength(1);
    } finally {
      await sb.dispose();
    }
  });

  it('shares its data folder with no foreground server: each refuses while the other runs, and says so at once', async () => {
    const sb = await Sandbox.create();
    const foreground = () =>
      spawn(BIN, ['server', '--port', '0'], { env: sb.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const output = (proc: ChildProcess) =>
      new Promise<string>((resolve) => {
        let out = '';
        proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
        proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
        proc.on('exit', () => resolve(out));
        proc.stdout!.on('data', () => /dstack server at /.test(out) && resolve(out));
      });
    let fg: ChildProcess | undefined;
    try {
      await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: a\n    commands: [echo a]\n' });
      expect((await sb.dstack(['run', 'a'])).code).toBe(0);
      const background = JSON.parse(await readFile(join(sb.home, 'server', 'server.json'), 'utf8')) as { pid: number };
      const refused = await output(foreground());
      expect(refused).toContain(
        `error: another dstack server (pid ${background.pid}) uses ${join(sb.home, 'server')}: stop it first`,
      );
      expect((await sb.dstack(['run', 'a'])).code).toBe(0); // the background one still has its runner

      expect((await sb.dstack(['server', 'stop'])).code).toBe(0);
      fg = foreground();
      expect(await output(fg)).toContain('dstack server at ');
      // The CLI says which server holds the folder and what to do, rather than send the user to
      // 'dstack server stop', which stops only a background server.
      const holds =
        `a dstack server started with 'dstack server' (pid ${fg.pid}) runs on ${join(sb.home, 'server')}, ` +
        `the local server's folder, so the CLI cannot start its own there: use that server (dstack config ` +
        `--server URL --token - < ${join(sb.home, 'server', 'token')}, with the URL it printed at its start), ` +
        `stop it where it runs (Ctrl-C), or set DSTACK_HOME to another folder\n`;
      const r = await sb.dstack(['run', 'a']);
      expect(r.stderr).toBe(`error: ${holds}`);
      expect(r.code).toBe(1);
      const stop = await sb.dstack(['server', 'stop']);
      expect(stop.stderr).toBe(`error: the local background server is not running; ${holds}`);
      expect(stop.code).toBe(1);
      expect(fg.exitCode).toBe(null); // not stopped
    } finally {
      fg?.kill('SIGKILL');
      await sb.dispose();
    }
  });

  it(
    'is replaced when an earlier build of dstack, another DOCKER_HOST or other shell settings (a venv) started it, once its runner is idle',
    { timeout: 60_000 },
    async () => {
      const sb = await Sandbox.create();
      const info = join(sb.home, 'server', 'server.json');
      const server = async () =>
        JSON.parse(await readFile(info, 'utf8')) as {
          pid: number;
          build?: string;
          dockerHost?: string;
          shell?: object;
        };
      // What a server started before an upgrade (git pull && npm ci) has recorded.
      const age = async () => writeFile(info, JSON.stringify({ ...(await server()), build: 'an-earlier-one' }));
      try {
        await sb.write({
          '.dstack/workflows.yaml': `workflows:\n  - name: a\n    commands: [echo a]\n${checkpointingWorkflow('busy')}`,
        });
        expect((await sb.dstack(['run', 'a'])).code).toBe(0);
        const first = await server();
        expect(first.build).toMatch(/^[0-9a-f]{16}$/);

        // Idle: stopped, and a server of this build starts with the same data.
        await age();
        const replaced = await sb.dstack(['run', 'a']);
        expect(replaced.stderr).toContain(
          `[dstack] restarting the local server (pid ${first.pid}): it runs an earlier build of dstack`,
        );
        expect(replaced.code).toBe(0);
        const second = await server();
        expect(second).toMatchObject({ build: first.build });
        expect(second.pid).not.toBe(first.pid);
        expect((await sb.json<RunView[]>(['status', '--last', '10'])).length).toBe(2);

        // Running a job: it stays, serves the command, and says so.
        const busy = (await sb.dstack(['run', 'busy', '-d'])).stdout.trim();
        await waitUntil(async () => (await sb.dstack(['logs', busy])).stdout.includes('ready'));
        await age();
        const served = await sb.dstack(['run', 'a']);
        expect(served.stderr).toContain(
          `[dstack] the local server (pid ${second.pid}) has 1 job running, though it runs an earlier build of dstack; ` +
            'it serves this command, and the first command after they end replaces it',
        );
        expect(served.code).toBe(0);
        expect((await server()).pid).toBe(second.pid);
        await sb.dstack(['stop', '--abort', busy]);
        await waitUntil(async () => (await sb.runView(busy)).status === 'ABORTED');

        // A shell that names another Docker engine gets a server that uses it; one that names none keeps it.
        const own = process.env['DOCKER_HOST'] || undefined;
        const elsewhere = { DOCKER_HOST: 'unix:///tmp/dstack-test-elsewhere.sock' };
        expect((await sb.dstack(['run', 'a'])).code).toBe(0); // replaces the aged one, now idle
        const third = await server();
        const moved = await sb.dstack(['run', 'a'], { env: elsewhere });
        expect(moved.stderr).toContain(
          `[dstack] restarting the local server (pid ${third.pid}): it was started with ` +
            `DOCKER_HOST${own ? `=${own}` : ' unset'}, and this shell sets unix:///tmp/dstack-test-elsewhere.sock\n`,
        );
        expect(moved.code).toBe(0);
        const fourth = await server();
        expect(fourth).toMatchObject({ dockerHost: elsewhere.DOCKER_HOST });
        expect((await sb.dstack(['run', 'a'], { env: elsewhere })).stderr).not.toContain('restarting');
        expect((await sb.dstack(['run', 'a'], { env: { DOCKER_HOST: '' } })).stderr).not.toContain('restarting');
        expect((await server()).pid).toBe(fourth.pid);

        // An activated venv: its jobs must find its python, so a server of this shell's; deactivated, one without it.
        const venv = {
          ...elsewhere,
          VIRTUAL_ENV: '/tmp/dstack-test-venv',
          PATH: `/tmp/dstack-test-venv/bin:${process.env['PATH']}`,
        };
        const activated = await sb.dstack(['run', 'a'], { env: venv });
        expect(activated.stderr).toContain(
          `[dstack] restarting the local server (pid ${fourth.pid}): this shell's PATH, VIRTUAL_ENV differ from ` +
            'those it was started with, which its jobs run with\n',
        );
        const fifth = await server();
        expect(fifth).toMatchObject({ shell: { VIRTUAL_ENV: venv.VIRTUAL_ENV, PATH: venv.PATH } });
        expect((await sb.dstack(['status'], { env: venv })).stderr).not.toContain('restarting');
        const deactivated = await sb.dstack(['run', 'a'], { env: elsewhere });
        expect(deactivated.stderr).toContain(
          `[dstack] restarting the local server (pid ${fifth.pid}): this shell's PATH, VIRTUAL_ENV`,
        );
      } finally {
        await sb.dispose();
      }
    },
  );

  it('runs a project that is not a git repository, and records git details for one that is', async () => {
    const sb = await Sandbox.create();
    try {
      await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: a\n    commands: [ls]\n', 'data.txt': 'x' });
      const plain = await sb.dstack(['run', 'a']);
      expect(plain.stdout).toContain('data.txt');
      const { execFileSync } = await import('node:child_process');
      const git = (...args: string[]) => execFileSync('git', args, { cwd: sb.root });
      git('init', '-q');
      await sb.write({ '.gitignore': 'ignored.txt\n', 'ignored.txt': 'secret' });
      git('add', '.');
      git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'init');
      await sb.write({ 'untracked.txt': 'u' });
      const r = await sb.dstack(['run', 'a']);
      expect(r.stdout).toContain('untracked.txt');
      expect(r.stdout).not.toContain('ignored.txt');
      const [run] = await sb.json<RunView[]>(['status']);
      expect(run!.repo.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(run!.repo.dirty).toBe(true);
    } finally {
      await sb.dispose();
    }
  });
});

describe('output to a pipe', () => {
  let pipe: Sandbox;
  beforeAll(async () => {
    pipe = await Sandbox.create();
    await pipe.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: chatty\n    commands: ["seq 1 200000"]\n' });
  });
  afterAll(() => pipe.dispose());

  it('stops quietly when its reader closes the pipe early (dstack logs RUN | head)', async () => {
    expect((await pipe.dstack(['run', 'chatty'])).code).toBe(0);
    const run = (await pipe.json<RunView[]>(['status', '--last', '1'])).at(-1)!.name;
    for (const args of [
      ['logs', run],
      ['run', 'chatty', '--no-cache'],
    ]) {
      const cli = pipe.spawn(args);
      let stderr = '';
      cli.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const first = await new Promise<string>((resolve) =>
        cli.stdout!.once('data', (c: Buffer) => resolve(c.toString())),
      );
      cli.stdout!.destroy(); // as `head -1` does once it has its line
      const code = await new Promise<number | null>((resolve) => cli.once('close', resolve));
      expect(first.split('\n')[0]).toBe('1');
      expect(code).toBe(0);
      expect(stderr).not.toContain('EPIPE');
    }
  });
});

describe('artifacts in the way', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': `workflows:
  - name: make
    commands: ['rm -f "out dir"', 'mkdir -p "out dir"', 'echo hi > "out dir/x.txt"', 'echo f > plain']
    artifacts: ['out dir', plain]
  - name: use
    depends-on: [make]
    commands: [echo never]
`,
    });
  });
  afterAll(() => sb.dispose());

  it('--output names a file where an artifact has a folder, and a folder where it has a file', async () => {
    expect((await sb.dstack(['run', 'make'])).code).toBe(0);
    const [run] = await sb.json<RunView[]>(['status', '--last', '1']);
    const id = run!.jobs[0]!.id;
    const dir = join(sb.root, '..', 'in-the-way');
    await mkdir(dir);
    await writeFile(join(dir, 'out dir'), 'mine');
    const onFile = await sb.dstack(['artifacts', id, '-o', dir]);
    expect(onFile.stderr).toBe(
      `error: cannot write artifact file 'out dir/x.txt' into ${dir}: '${join(dir, 'out dir')}' is a file; ` +
        'remove it or download into another folder\n',
    );
    expect(onFile.code).toBe(1);
    expect(await readFile(join(dir, 'out dir'), 'utf8')).toBe('mine');
    await rm(join(dir, 'out dir'));
    await mkdir(join(dir, 'plain'));
    const onFolder = await sb.dstack(['artifacts', id, '-o', dir]);
    expect(onFolder.stderr).toBe(
      `error: cannot write artifact file 'plain' into ${dir}: '${join(dir, 'plain')}' is a folder; ` +
        'remove it or download into another folder\n',
    );
    expect(onFolder.code).toBe(1);
  });

  it("fails a job whose code has a file where a dependency's artifact has a folder, naming both", async () => {
    await sb.write({ 'out dir': 'code\n' });
    const r = await sb.dstack(['run', 'use']);
    expect(r.code).toBe(1);
    const job = (await sb.lastRun()).jobs.find((j) => j.workflow === 'use')!;
    expect(job.status).toBe('FAILED');
    expect(job.reason).toMatch(
      new RegExp(
        "^cannot write make's artifact file 'out dir/x\\.txt' into (\\S+/workspace): '\\1/out dir' is a file; " +
          'the code or an earlier dependency has a path there: rename the artifact or that path$',
      ),
    );
  });
});
