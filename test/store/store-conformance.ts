/**
 * The `Store` conformance suite: every implementation (SQLite, PostgreSQL) runs these
 * same tests, so they behave alike wherever the server keeps its state.
 */
import { describe } from 'vitest';
import { describeCacheAndTags } from './conformance/cache-tags.js';
import { describeJobQueries } from './conformance/jobs.js';
import { describeLogArchives } from './conformance/log-archives.js';
import { describeReadyJobs } from './conformance/ready-jobs.js';
import { describeRegistry } from './conformance/registry.js';
import { describeRepos } from './conformance/repos.js';
import { describeRuns } from './conformance/runs.js';
import { describeSlurmJobs } from './conformance/slurm-jobs.js';
import { describeTransitions } from './conformance/transitions.js';
import type { OpenStore } from './fixtures.js';

/**
 * Define the conformance tests for one implementation. `open` must return a fresh, empty,
 * migrated store each call; the suite closes every store it opens.
 */
export function describeStoreConformance(name: string, open: OpenStore): void {
  describe(`Store conformance: ${name}`, () => {
    describeRuns(open);
    describeJobQueries(open);
    describeReadyJobs(open);
    describeTransitions(open);
    describeRegistry(open);
    describeCacheAndTags(open);
    describeRepos(open);
    describeLogArchives(open);
    describeSlurmJobs(open);
  });
}
