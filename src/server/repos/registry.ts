/**
 * Registering repos and handing their credentials to runners. Credentials are sealed with
 * the server key before they reach the store and opened only for a runner's clone; what
 * users see of a repo is its remote, the kind of credential and when it was registered.
 */
import { ConflictError } from '../../core/errors.js';
import type { CodeSource, RegisterRepoRequest, RepoCredential, RepoView } from '../../core/repos.js';
import type { ServerKey } from '../crypto.js';
import type { RepoRecord, RepoStore } from '../store/repo-store.js';

/** The sealed credential is bound to its user and remote: copied to another row, it does not open. */
function context(user: string, remote: string): string {
  return `dstack repo credential\0${user}\0${remote}`;
}

export function repoView(record: RepoRecord): RepoView {
  return { remote: record.remote, credential: record.credential, createdAt: record.createdAt };
}

/** Store (or replace) `user`'s repo with its credential sealed. */
export async function registerRepo(
  store: RepoStore,
  key: ServerKey,
  user: string,
  request: RegisterRepoRequest,
): Promise<RepoView> {
  const { remote, credential } = request;
  const record: RepoRecord = { user, remote, credential: credential.kind, createdAt: Date.now() };
  if (credential.kind !== 'none') record.sealed = await key.seal(JSON.stringify(credential), context(user, remote));
  await store.putRepo(record);
  return repoView(record);
}

/** How to clone `user`'s `remote`, credential in the clear; undefined when the user has not registered it. */
export async function codeSource(
  store: RepoStore,
  key: ServerKey,
  user: string,
  remote: string,
): Promise<CodeSource | undefined> {
  const record = await store.getRepo(user, remote);
  if (!record) return undefined;
  let credential: RepoCredential = { kind: 'none' };
  if (record.sealed !== undefined) {
    let opened: string;
    try {
      opened = await key.open(record.sealed, context(user, remote));
    } catch (e) {
      // Not a server error to retry for minutes: the runner goes on with the uploaded files at once.
      throw new ConflictError(
        `the credential ${user} registered for ${remote} does not open with ${key.path} (the server's key ` +
          `was replaced, or the database moved without it): run 'dstack init' in that repository again`,
        { cause: e },
      );
    }
    credential = JSON.parse(opened) as RepoCredential;
  }
  return { remote, user, credential };
}
