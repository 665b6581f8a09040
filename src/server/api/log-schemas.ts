/** zod schemas of the log routes' queries: pages with a cursor, and streams that resume from one. */
import { z } from 'zod';
import { CURSOR } from '../../core/log-api.js';
import { logsQuery } from './schemas.js';

const cursor = z.string().regex(CURSOR, 'jobId:seq pairs separated by commas').or(z.literal(''));

export const logPageQuery = logsQuery.extend({
  /** Where the previous page ended (`cursor` of its answer). */
  cursor: cursor.optional(),
  /** Entries per page (default 20000; a page also stops at about 8 MB); an entry holds the lines of one read. */
  limit: z.coerce.number().int().min(1).max(50_000).optional(),
});

export const logStreamQuery = logsQuery.extend({
  cursor: cursor.optional(),
  /** `false`: no `jobs` events, for a follower that shows only the lines (the CLI). */
  jobs: z.enum(['true', 'false'], { error: "'true' or 'false'" }).optional(),
  /** Start each job without a cursor at its last lines, at least this many (whole entries): log-tail.ts. */
  tail: z.coerce.number().int().min(1).max(100_000).optional(),
});
