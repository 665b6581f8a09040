/**
 * `dstack init`: register this git repository's remote `origin` (and the credentials to
 * clone it) with the server, for the current user. Runners then clone the code of this
 * user's runs from the remote, and the CLI uploads only the files that differ from the
 * pushed commit.
 */
import pc from 'picocolors';
import { NotFoundError, UsageError } from '../../core/errors.js';
import type { CredentialKind } from '../../core/repos.js';
import { stripCredentials } from '../../core/repos.js';
import type { Client } from '../../client/client.js';
import { gitOutput, projectAt } from '../../client/git.js';
import { findProjectRoot, misnamedProjectFile } from '../../config/project-root.js';
import type { Settings } from '../../settings.js';
import { credentialFrom, type InitOptions } from './init-credentials.js';

const LABEL: Record<CredentialKind, string> = { none: 'none', token: 'HTTPS token', 'ssh-key': 'SSH key' };

function warn(text: string): void {
  process.stderr.write(`${pc.yellow('warning:')} ${text}\n`);
}

/** The remote to register: origin's URL, without credentials an https URL may hold. */
async function originOf(cwd: string): Promise<{ remote: string; stripped: boolean }> {
  const top = await gitOutput(cwd, 'rev-parse', '--show-toplevel');
  if (top === undefined) {
    throw new UsageError(
      `${cwd} is not in a git repository; dstack init registers a repository's remote 'origin' (run it in your project)`,
    );
  }
  const url = (await gitOutput(cwd, 'remote', 'get-url', 'origin'))?.trim();
  if (!url) {
    throw new NotFoundError(
      `the git repository ${top.trim()} has no remote 'origin'; add one with: git remote add origin URL`,
    );
  }
  return stripCredentials(url);
}

export async function initCommand(options: InitOptions, settings: Settings, cwd: string): Promise<number> {
  // Flags and key file first: a mistake there needs no server.
  const credential = await credentialFrom(options);
  const { remote, stripped } = await originOf(cwd);
  // Registering the remote needs no project file, but the `dstack run` that follows would refuse it.
  const misnamed = misnamedProjectFile(cwd, findProjectRoot(cwd));
  if (misnamed) warn(`${misnamed} before 'dstack run'`);
  const https = /^https?:\/\//i.test(remote);
  if (stripped) {
    const token = credential.kind === 'token' ? ', with the --token given' : ' (pass --token instead)';
    warn(`origin's URL holds credentials; dstack registers it without them${token}`);
  }
  if (credential.kind === 'token' && !https)
    warn(`--token is for https remotes; runners will not use it for ${remote}`);
  if (credential.kind === 'ssh-key' && https)
    warn(`--private-key is for ssh remotes; runners clone ${remote} over https`);

  const { connect } = await import('../connect.js');
  const client = await connect(settings);
  const view = await client.registerRepo({ remote, credential });
  process.stdout.write(
    `registered ${view.remote} (credentials: ${LABEL[view.credential]})\n` +
      `runners clone it for your runs; dstack run uploads only the files that differ from the pushed commit\n`,
  );
  // A private remote refuses that clone, and a pushed commit's run then has only its changes to go on.
  if (view.credential === 'none') {
    process.stdout.write(
      'for a private repository, run dstack init again with --token TOKEN (https) or --private-key PATH (ssh): ' +
        'without credentials runners cannot clone it, and a run of a pushed commit cannot get its code\n',
    );
  }
  await noteRunsLeftBehind(client, cwd);
  return 0;
}

/**
 * A project's runs and tags are keyed by its remote, or by its folder while it has none
 * (core/projects.ts): those made before `origin` was added stay under the folder's key,
 * and would seem gone without a word.
 */
async function noteRunsLeftBehind(client: Pick<Client, 'listRuns'>, cwd: string): Promise<void> {
  const root = findProjectRoot(cwd);
  if (root === undefined) return;
  // Without a remote, a project's key is its root folder.
  const now = await projectAt(root);
  if (now === root || (await client.listRuns({ last: 1, project: root })).length === 0) return;
  warn(
    `runs and tags made here before the repository had a remote stay under project ${root} ` +
      `(see 'dstack status --all'); from now on this project's are under ${now}`,
  );
}
