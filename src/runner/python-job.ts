/**
 * The python provider on a runner: `python_script` (with its arguments) run by the Python
 * the workflow asks for, the runner's `python3.X` on the host or the `python:3.X` image in
 * docker, in a virtualenv with its `requirements` installed, cached per user, requirements
 * content and pip's settings (venv-cache.ts).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { InvalidError } from '../core/errors.js';
import { localPipSetting, localReference, wheelFolders } from '../core/requirements-file.js';
import { requirementsLabel, requirementsOf, type Requirements } from '../core/python-requirements.js';
import { majorMinor, param, pythonHint, pythonParam } from '../core/job-needs.js';
import { shellQuote } from '../core/variables.js';
import { CONTAINER_VENV, CONTAINER_WORKSPACE } from '../core/container-paths.js';
import { normalizeRelative } from '../files/safe-path.js';
import { readProviderSettings } from '../settings.js';
import type { Execution, ExitResult } from './executors/executor.js';
import { jobEnvironment, pipSettings } from './job-environment.js';
import { jobTarget, type LaunchContext } from './job-target.js';
import { wheelListing, type WheelFolder } from './wheel-folders.js';
import { mapExit, sequence, withExit, type Step } from './sequence.js';
import {
  cachedVenv,
  discard,
  holdVenv,
  isReady,
  lockVenv,
  markReady,
  touchVenv,
  type CachedVenv,
} from './venv-cache.js';

/** The reference docs' default version, for the image when a workflow names none. */
export const DEFAULT_PYTHON = '3.10';

export async function startPython(ctx: LaunchContext): Promise<Execution> {
  const spec = ctx.assignment.job.spec;
  const script = param(spec.params, 'python_script', 'script', 'file') ?? '';
  const requirements = requirementsOf(spec.params);
  const version = pythonParam(spec.params);
  const inDocker = spec.image !== undefined || readProviderSettings().pythonRuntime === 'docker';
  const image = spec.image ?? (inDocker ? `python:${majorMinor(version ?? DEFAULT_PYTHON)}` : undefined);
  const target = jobTarget(ctx, image);
  // The job's environment (jobEnvironment) has `environment:` already; this is Python's default beneath it.
  const env: Record<string, string> = spec.env['PYTHONUNBUFFERED'] === undefined ? { PYTHONUNBUFFERED: '1' } : {};
  const wanted = requirements === undefined ? undefined : await wantedPackages(ctx.workspace, requirements);

  if (target.image !== undefined) {
    if (wanted === undefined) return target.start([`python3 ${script}`], { env });
    const venv = await placeVenv(ctx, 'container', `image ${target.image}`, wanted);
    const mount = { host: venv.env, container: CONTAINER_VENV };
    // A cached virtualenv is read-only to the script: what it changed would reach later jobs.
    const readOnly = venv.mark !== undefined;
    return holding(venv, () =>
      sequence([
        venvStep(ctx, venv, wanted.label, () =>
          target.start(setupCommands('python3', CONTAINER_VENV, wanted), { step: 'venv', mounts: [mount], env }),
        ),
        () => target.start([`${CONTAINER_VENV}/bin/python ${script}`], { mounts: [{ ...mount, readOnly }], env }),
      ]),
    );
  }

  const interpreter = version === undefined ? 'python3' : `python${majorMinor(version)}`;
  const found = await probe(interpreter, jobEnvironment(ctx.assignment, ctx.baseEnv, 'host').env);
  if (found === undefined) {
    // As the embedded server says it when the runner told it has no such Python (server/monitor.ts).
    throw new InvalidError(`this machine does not have Python ${version ?? '3'}: ${pythonHint(version)}`);
  }
  if (wanted === undefined) return target.start([`${shellQuote(interpreter)} ${script}`], { env });
  // On the host the script runs as the runner's user, who owns the virtualenv: per user, it cannot be read-only.
  const venv = await placeVenv(ctx, 'host', `${found.executable} ${found.version}`, wanted);
  return holding(venv, () =>
    sequence([
      venvStep(ctx, venv, wanted.label, () =>
        target.start(setupCommands(shellQuote(interpreter), shellQuote(venv.env), wanted), {
          step: 'venv',
          env,
        }),
      ),
      () => target.start([`${shellQuote(join(venv.env, 'bin', 'python'))} ${script}`], { env }),
    ]),
  );
}

/**
 * The job, holding its cached virtualenv from before it takes the virtualenv's lock until it
 * ends: the runner's eviction passes it by while it is built, and while the script runs with it.
 */
async function holding(venv: VenvPlace, start: () => Promise<Execution>): Promise<Execution> {
  if (venv.mark === undefined) return start();
  const letGo = holdVenv(venv);
  let execution: Execution;
  try {
    execution = await start();
  } catch (e) {
    await letGo();
    throw e;
  }
  return withExit(execution, execution.exit.finally(letGo));
}

/** What a job's virtualenv installs: its requirements as logs name them, their text (the key's), and pip's arguments. */
interface WantedPackages {
  label: string;
  /** The verb of the label: `requirements.txt refers`, `the packages … refer`. */
  refer: 'refers' | 'refer';
  text: string;
  install: string;
}

async function wantedPackages(workspace: string, requirements: Requirements): Promise<WantedPackages> {
  const label = requirementsLabel(requirements);
  if ('packages' in requirements) {
    const { packages } = requirements;
    const install = `-- ${packages.map(shellQuote).join(' ')}`;
    return { label, refer: 'refer', text: packages.join('\n') + '\n', install };
  }
  const text = await readRequirements(workspace, requirements.file);
  return { label, refer: 'refers', text, install: `-r ${shellQuote(requirements.file)}` };
}

function setupCommands(python: string, dir: string, wanted: WantedPackages): string[] {
  return [`${python} -m venv ${dir}`, `${dir}/bin/python -m pip install ${wanted.install}`];
}

async function readRequirements(workspace: string, file: string): Promise<string> {
  try {
    return await readFile(join(workspace, normalizeRelative(file)), 'utf8');
  } catch {
    throw new InvalidError(`requirements file '${file}' is not in the workspace (a path relative to the project)`);
  }
}

/** A job's virtualenv: cached (with a mark) or, without one, the job's own, removed with its folder. */
type VenvPlace = CachedVenv | { env: string; mark?: undefined };

/**
 * The cached virtualenv of the run's user for the requirements and pip's settings (with the
 * listing of the folders of wheels they name), unless either names local files whose text does
 * not say what they hold, or the requirements read the environment (`./pkg`, `-e .`,
 * `-r base.txt`, `${VAR}`, `PIP_CONSTRAINT=c.txt`): what they install can change while their
 * text stays the same, so such a virtualenv is built for the job alone, in its folder.
 */
async function placeVenv(
  ctx: LaunchContext,
  where: 'host' | 'container',
  runtime: string,
  wanted: WantedPackages,
): Promise<VenvPlace> {
  const settings = pipSettings(ctx.assignment, ctx.baseEnv, where);
  let why = notCachedBecause(wanted, settings);
  // The folders of wheels are listed (a workspace's read whole) only for a virtualenv that may be cached.
  if (why === undefined) {
    const folders = wheelFolders(settings).flatMap((folder) => hostFolder(ctx.workspace, where, folder) ?? []);
    const wheels = await wheelListing(folders);
    if ('listing' in wheels) {
      return cachedVenv(ctx.workRoot, ctx.assignment.run.user, runtime, wanted.text, settings, wheels.listing);
    }
    why = `pip's setting PIP_FIND_LINKS names a file ('${wheels.notFolder}')`;
  }
  ctx.note(`${why}: its virtualenv is built for this job alone, not cached`);
  return { env: join(ctx.workRoot, 'jobs', ctx.assignment.job.id, 'venv') };
}

/**
 * Where a folder of `find-links` is on this machine, as the setup step reads it (relative to the
 * workspace); undefined for a folder of the image's, whose name and image are in the key.
 */
function hostFolder(workspace: string, where: 'host' | 'container', name: string): WheelFolder | undefined {
  const inWorkspace = (path: string) => ({ name, path: join(workspace, path), byContent: true });
  if (!isAbsolute(name)) return inWorkspace(name);
  const under = relative(where === 'host' ? workspace : CONTAINER_WORKSPACE, name);
  if (!under.startsWith('..') && !isAbsolute(under)) return inWorkspace(under);
  return where === 'host' ? { name, path: name, byContent: false } : undefined;
}

/** What names local files (or the environment), if anything does: why a virtualenv is not cached. */
function notCachedBecause(wanted: WantedPackages, settings: Record<string, string>): string | undefined {
  const line = localReference(wanted.text);
  if (line !== undefined) return `${wanted.label} ${wanted.refer} to local files or the environment ('${line}')`;
  const setting = localPipSetting(settings);
  if (setting !== undefined) return `pip's setting ${setting.name} names local files ('${setting.local}')`;
  return undefined;
}

/** The virtualenv's setup, unless a job before built it; one build at a time per cached folder. */
function venvStep(ctx: LaunchContext, venv: VenvPlace, requirements: string, start: () => Promise<Execution>): Step {
  const failed = (r: ExitResult) =>
    r.code === 0 ? r : { ...r, reason: r.reason ?? `installing ${requirements} failed (exit code ${r.code})` };
  if (venv.mark === undefined) {
    return async () => {
      ctx.note(`creating a virtualenv for ${requirements} (${venv.env})`);
      return mapExit(await start(), failed);
    };
  }
  const cached = venv;
  return async () => {
    const release = await lockVenv(cached.folder);
    try {
      if (await isReady(cached)) {
        ctx.note(`reusing the virtualenv for ${requirements} (${cached.env})`);
        await touchVenv(cached);
        release();
        return undefined;
      }
      await discard(cached);
      ctx.note(`creating a virtualenv for ${requirements} (${cached.env})`);
      const execution = await start();
      const settled = execution.exit
        .then(async (result) => {
          if (result.code === 0) {
            await markReady(cached, requirements);
            ctx.venvBuilt?.();
          } else await discard(cached);
          return result;
        })
        .finally(release);
      return mapExit(withExit(execution, settled), failed);
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
