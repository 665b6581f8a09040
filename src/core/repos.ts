/**
 * Registered repos (`dstack init`): a user's git remote and the credentials runners use
 * to clone it. These are the API's shapes; the credentials travel only from the CLI to
 * the server and from the server to the runner that runs a job of that user.
 */

/** What kind of credential a repo has; `none` for a remote runners can clone as they are. */
export type CredentialKind = 'none' | 'token' | 'ssh-key';

/** Credentials for cloning a remote: an HTTPS token, or an SSH private key (OpenSSH or PEM text). */
export type RepoCredential =
  { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'ssh-key'; privateKey: string; passphrase?: string };

/** `POST /api/repos`: register (or re-register) the caller's remote with its credentials. */
export interface RegisterRepoRequest {
  remote: string;
  credential: RepoCredential;
}

/** A registered repo as the user API shows it: never the credential itself. */
export interface RepoView {
  remote: string;
  credential: CredentialKind;
  /** When these credentials were registered, epoch ms. */
  createdAt: number;
}

/** `GET /api/runner/jobs/:id/code-source`: how a runner may clone the code of a job's run. */
export interface CodeSource {
  remote: string;
  /** The run's user: runners keep one mirror per user and remote, never sharing one user's clone with another. */
  user: string;
  credential: RepoCredential;
}

/**
 * The remote URL without the credentials an `https://user:token@host/...` URL may hold:
 * dstack keeps URLs in run records and shows them, so secrets must not ride along
 * (the token goes through `dstack init --token` instead). SSH URLs keep their user
 * (`git@github.com:org/repo.git`): it is a login name, not a secret.
 */
export function stripCredentials(remote: string): { remote: string; stripped: boolean } {
  const m = /^(https?:\/\/)([^/@]*)@(.*)$/i.exec(remote);
  if (!m) return { remote, stripped: false };
  return { remote: `${m[1]}${m[3]}`, stripped: true };
}
