/**
 * A provider that is a program (`.dstack/providers.yaml`: `image` and `commands`): run at plan
 * time, on this machine or in its image, with its input in the file DSTACK_PROVIDER_INPUT names;
 * it writes its jobs to the file DSTACK_PROVIDER_OUTPUT names. Its output is kept for the error
 * when it fails; a program that runs too long is killed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerExecutor } from '../../runner/executors/docker-executor.js';
import type { Execution, Executor } from '../../runner/executors/executor.js';
import { ProcessExecutor } from '../../runner/executors/process-executor.js';
import { runnerEnvironment } from '../../runner/environment.js';
import { endOnSignal, programLabels, removeProgramLeftovers } from './program-leftovers.js';
import type { ProviderSettings } from '../../settings.js';
import type { ProviderInput } from './contract.js';

export interface ProgramDefinition {
  name: string;
  image?: string;
  commands: string[];
  /** The folder it runs in: the repository that defines it. */
  dir: string;
}

/** Where things are in a provider's container. */
const IO_DIR = '/dstack/provider';
const PROJECT_DIR = '/project';
const TAIL_LINES = 20;

/** Runs the program; its parsed output, or an Error whose message says what went wrong (the caller names the provider). */
export async function runProgram(
  program: ProgramDefinition,
  input: (projectDir: string) => ProviderInput,
  projectRoot: string,
  settings: ProviderSettings,
): Promise<unknown> {
  const io = await mkdtemp(join(tmpdir(), 'dstack-provider-'));
  try {
    const inDocker = program.image !== undefined;
    const dir = inDocker ? IO_DIR : io;
    await writeFile(join(io, 'input.json'), JSON.stringify(input(inDocker ? PROJECT_DIR : projectRoot), null, 2));
    const env = {
      ...(inDocker ? {} : runnerEnvironment()),
      DSTACK_PROVIDER_INPUT: join(dir, 'input.json'),
      DSTACK_PROVIDER_OUTPUT: join(dir, 'output.json'),
      DSTACK_PROJECT_DIR: inDocker ? PROJECT_DIR : projectRoot,
      DSTACK_PROVIDER: program.name,
    };
    const executor: Executor = inDocker
      ? new DockerExecutor({
          host: settings.dockerHost,
          network: settings.dockerNetwork,
          scriptDir: io,
          labels: programLabels(program.name, io),
        })
      : new ProcessExecutor(io);
    if (executor instanceof DockerExecutor) await removeProgramLeftovers(await executor.engine()).catch(() => {});
    const tail: string[] = [];
    const keep = (_stream: string, chunk: Buffer) => {
      tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - TAIL_LINES));
    };
    const preparing = new AbortController();
    const starting = executor.start({
      jobId: 'provider',
      workspace: program.dir,
      commands: program.commands,
      env,
      onOutput: keep,
      ...(inDocker
        ? {
            image: program.image!,
            mounts: [
              { host: io, container: IO_DIR },
              { host: projectRoot, container: PROJECT_DIR, readOnly: true },
            ],
          }
        : {}),
      signal: preparing.signal,
    });
    const unwatch = endOnSignal(program.name, () => starting, io, preparing);
    const execution = await starting.catch((e: unknown) => {
      unwatch();
      throw e;
    });
    const exit = await withTimeout(execution, settings.providerTimeoutSeconds).finally(unwatch);
    const output = tail.length > 0 ? `; its last output:\n  ${tail.join('\n  ')}` : '';
    if (exit === 'timeout') {
      throw new Error(`did not finish within ${settings.providerTimeoutSeconds} s (DSTACK_PROVIDER_TIMEOUT)${output}`);
    }
    if (exit.code !== 0) {
      const how = exit.reason ?? (exit.code === null ? `killed by ${exit.signal}` : `exit code ${exit.code}`);
      throw new Error(`failed (${how})${output}`);
    }
    const text = await readFile(join(io, 'output.json'), 'utf8').catch(() => undefined);
    if (text === undefined) throw new Error(`wrote no jobs to the file DSTACK_PROVIDER_OUTPUT names${output}`);
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new Error(`wrote output that is not JSON: ${(e as Error).message}`);
    }
  } finally {
    await rm(io, { recursive: true, force: true }).catch(() => {});
  }
}

async function withTimeout(execution: Execution, seconds: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), seconds * 1000);
  });
  const result = await Promise.race([execution.exit, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    execution.kill();
    await execution.exit.catch(() => {});
  }
  return result;
}
