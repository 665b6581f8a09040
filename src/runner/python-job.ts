/**
 * The python provider on a runner: `python_script` (with its arguments) run by the Python
 * the workflow asks for, the runner's `python3.X` on the host or the `python:3.X` image in
 * docker, in a virtualenv with its `requirements` installed, cached per requirements content.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidError } from '../core/errors.js';
import { majorMinor, param, pythonHint, pythonParam } from '../core/job-needs.js';
import { shellQuote } from '../core/variables.js';
import { normalizeRelative } from '../files/safe-path.js';
import { readProviderSettings } from '../settings.js';
import type { Execution } from './executors/executor.js';
import { jobEnvironment } from './job-environment.js';
import { jobTarget, type LaunchContext } from './job-target.js';
import { mapExit, sequence, type Step } from './sequence.js';
import { discard, isReady, lockVenv, markReady, venvDir } from './venv-cache.js';

/** The reference docs' default version, for the image when a workflow names none. */
export const DEFAULT_PYTHON = '3.10';

/** Where a cached virtualenv is mounted in a container. */
const CONTAINER_VENV = '/opt/dstack/venv';

export async function startPython(ctx: LaunchContext, expand: (text: string) => string): Promise<Execution> {
  const spec = ctx.assignment.job.spec;
  const script = expand(param(spec.params, 'python_script', 'script', 'file') ?? '');
  const requirements = param(spec.params, 'requirements');
  const version = pythonParam(spec.params);
  const inDocker = spec.image !== undefined || readProviderSettings().pythonRuntime === 'docker';
  const image = spec.image ?? (inDocker ? `python:${majorMinor(version ?? DEFAULT_PYTHON)}` : undefined);
  const target = jobTarget(ctx, image);
  // The job's environment (jobEnvironment) has `environment:` already; this is Python's default beneath it.
  const env: Record<string, string> = spec.env['PYTHONUNBUFFERED'] === undefined ? { PYTHONUNBUFFERED: '1' } : {};
  const content = requirements === undefined ? undefined : await readRequirements(ctx.workspace, requirements);

  if (target.image !== undefined) {
    if (content === undefined) return target.start([`python3 ${script}`], { env });
    const dir = venvDir(ctx.workRoot, `image ${target.image}`, content);
    const mounts = [{ host: dir, container: CONTAINER_VENV }];
    return sequence([
      venvStep(ctx, dir, requirements!, () =>
        target.start(setupCommands('python3', CONTAINER_VENV, requirements!), { step: 'venv', mounts, env }),
      ),
      () => target.start([`${CONTAINER_VENV}/bin/python ${script}`], { mounts, env }),
    ]);
  }

  const interpreter = version === undefined ? 'python3' : `python${majorMinor(version)}`;
  const found = await probe(interpreter, jobEnvironment(ctx.assignment, ctx.baseEnv, 'host').env);
  if (found === undefined) {
    // As the embedded server says it when the runner told it has no such Python (server/monitor.ts).
    throw new InvalidError(`this machine does not have Python ${version ?? '3'}: ${pythonHint(version)}`);
  }
  if (content === undefined) return target.start([`${shellQuote(interpreter)} ${script}`], { env });
  const dir = venvDir(ctx.workRoot, `${found.executable} ${found.version}`, content);
  return sequence([
    venvStep(ctx, dir, requirements!, () =>
      target.start(setupCommands(shellQuote(interpreter), shellQuote(dir), requirements!), { step: 'venv', env }),
    ),
    () => target.start([`${shellQuote(join(dir, 'bin', 'python'))} ${script}`], { env }),
  ]);
}

function setupCommands(python: string, dir: string, requirements: string): string[] {
  return [`${python} -m venv ${dir}`, `${dir}/bin/python -m pip install -r ${shellQuote(requirements)}`];
}

async function readRequirements(workspace: string, file: string): Promise<string> {
  try {
    return await readFile(join(workspace, normalizeRelative(file)), 'utf8');
  } catch {
    throw new InvalidError(`requirements file '${file}' is not in the workspace (a path relative to the project)`);
  }
}

/** The virtualenv's setup, unless a job before built it; one build at a time per folder. */
function venvStep(ctx: LaunchContext, dir: string, requirements: string, start: () => Promise<Execution>): Step {
  return async () => {
    const release = await lockVenv(dir);
    try {
      if (await isReady(dir)) {
        ctx.note(`reusing the virtualenv for ${requirements} (${dir})`);
        release();
        return undefined;
      }
      await discard(dir);
      ctx.note(`creating a virtualenv for ${requirements} (${dir})`);
      const execution = await start();
      const settled = execution.exit.then(async (result) => {
        if (result.code === 0) await markReady(dir, requirements);
        else await discard(dir);
        release();
        return result;
      });
      return mapExit({ ...execution, pid: execution.pid, exit: settled }, (r) =>
        r.code === 0 ? r : { ...r, reason: r.reason ?? `installing ${requirements} failed (exit code ${r.code})` },
      );
    } catch (e) {
      release();
      throw e;
    }
  };
}

/** The interpreter's path and version, or undefined when there is no working one of that name. */
function probe(
  interpreter: string,
  env: Record<string, string>,
): Promise<{ executable: string; version: string } | undefined> {
  const code = 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])';
  return new Promise((resolve) => {
    execFile(interpreter, ['-c', code], { env, timeout: 30_000 }, (error, stdout) => {
      const [executable, version] = stdout.trim().split('\n');
      resolve(error || !executable || !version ? undefined : { executable, version });
    });
  });
}
