/**
 * 0009: runs and tags are per project (core/projects.ts), as they are per user. `project`
 * holds the run's project key, computed here from the repo each run recorded; the `tag`
 * column, `USER:TAG` since 0008, becomes `USER:PROJECT:TAG` (tags have no ':', so the last
 * one still ends the key's prefix), and its UNIQUE of 0001 is unique per user and project.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { projectKey } from '../../../core/projects.js';
import type { RepoInfo } from '../../../core/records.js';

/** Runs updated per statement: their names are bound parameters, well under either engine's limit. */
const BATCH = 500;

export const projectRunsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('runs')
      .addColumn('project', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    const rows = await sql<{ name: string; repo: string }>`select name, repo from runs`.execute(db);
    const byProject = new Map<string, string[]>();
    for (const { name, repo } of rows.rows) {
      const key = projectKey(JSON.parse(repo) as RepoInfo);
      byProject.set(key, [...(byProject.get(key) ?? []), name]);
    }
    for (const [project, names] of byProject) {
      for (let i = 0; i < names.length; i += BATCH) {
        const batch = names.slice(i, i + BATCH);
        await sql`update runs set project = ${project} where name in (${sql.join(batch)})`.execute(db);
      }
    }
    await sql`update runs set tag = "user" || ':' || project || ':' || substr(tag, length("user") + 2)
              where tag is not null`.execute(db);
    await db.schema.createIndex('runs_project').on('runs').columns(['project', 'submitted_at']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    // One user's same tag in two projects would collide as one again: the later ones are dropped.
    const rows = await sql<{
      name: string;
      user: string;
      tag: string;
    }>`select name, "user", tag from runs where tag is not null order by submitted_at`.execute(db);
    await sql`update runs set tag = null where tag is not null`.execute(db);
    const seen = new Set<string>();
    for (const { name, user, tag } of rows.rows) {
      const key = `${user}:${tag.slice(tag.lastIndexOf(':') + 1)}`;
      if (!seen.has(key)) await sql`update runs set tag = ${key} where name = ${name}`.execute(db);
      seen.add(key);
    }
    await db.schema.dropIndex('runs_project').execute();
    await db.schema.alterTable('runs').dropColumn('project').execute();
  },
};
