/**
 * 0016: look-ups that a long history made scans. `runs_tag_on_done` holds only the runs
 * submitted with `--tag` (one in a hundred, say): the promised-tag check of every `dstack run
 * --tag`, `tags add` and `resume` read every run of the project for it (20–30 ms at 99,000 runs),
 * and `tags list` every run. It ends in `submitted_at` so that SQLite, without statistics,
 * prefers it to `runs_project (project, submitted_at)` for "the oldest such run".
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const historyIndexesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex('runs_tag_on_done')
      .on('runs')
      .columns(['tag_on_done', 'user', 'project', 'submitted_at'])
      .where(sql.ref('tag_on_done'), 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('runs_tag_on_done').execute();
  },
};
