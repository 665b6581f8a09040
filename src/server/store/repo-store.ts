/**
 * Registered repos in the store: one row per user and remote URL, with the credential
 * sealed by the server key (the store never sees it in the clear).
 */
import type { Kysely, Selectable } from 'kysely';
import type { CredentialKind } from '../../core/repos.js';
import type { Database, EpochMs } from './schema.js';

/** A registered repo as stored. */
export interface RepoRecord {
  user: string;
  remote: string;
  credential: CredentialKind;
  /** The credential encrypted with the server key (`ServerKey.seal`); absent for `none`. */
  sealed?: string;
  /** When it was registered, epoch ms. */
  createdAt: number;
}

/** The `repos` table (added by 0005-repos). */
export interface ReposTable {
  user: string;
  remote: string;
  credential_kind: CredentialKind;
  sealed: string | null;
  created_at: EpochMs;
}

/** What the `Store` offers for repos. */
export interface RepoStore {
  /** Insert, or replace the credential of the same user and remote. */
  putRepo(repo: RepoRecord): Promise<void>;
  getRepo(user: string, remote: string): Promise<RepoRecord | undefined>;
  /** A user's repos, by remote URL. */
  listRepos(user: string): Promise<RepoRecord[]>;
  /** Forget every repo of a user, their credentials with them; returns how many there were. */
  deleteRepos(user: string): Promise<number>;
}

function fromRow(row: Selectable<ReposTable>): RepoRecord {
  return {
    user: row.user,
    remote: row.remote,
    credential: row.credential_kind,
    ...(row.sealed === null ? {} : { sealed: row.sealed }),
    createdAt: Number(row.created_at),
  };
}

export async function putRepo(db: Kysely<Database>, repo: RepoRecord): Promise<void> {
  const set = { credential_kind: repo.credential, sealed: repo.sealed ?? null, created_at: repo.createdAt };
  await db
    .insertInto('repos')
    .values({ user: repo.user, remote: repo.remote, ...set })
    .onConflict((oc) => oc.columns(['user', 'remote']).doUpdateSet(set))
    .execute();
}

export async function getRepo(db: Kysely<Database>, user: string, remote: string): Promise<RepoRecord | undefined> {
  const row = await db
    .selectFrom('repos')
    .selectAll()
    .where('user', '=', user)
    .where('remote', '=', remote)
    .executeTakeFirst();
  return row && fromRow(row);
}

export async function listRepos(db: Kysely<Database>, user: string): Promise<RepoRecord[]> {
  const rows = await db.selectFrom('repos').selectAll().where('user', '=', user).orderBy('remote').execute();
  return rows.map(fromRow);
}

export async function deleteRepos(db: Kysely<Database>, user: string): Promise<number> {
  const result = await db.deleteFrom('repos').where('user', '=', user).executeTakeFirst();
  return Number(result.numDeletedRows);
}
