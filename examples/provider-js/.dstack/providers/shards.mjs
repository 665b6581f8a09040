/**
 * A custom provider as a JavaScript module: dstack imports it in process (no program to start)
 * and calls createJobs with the workflow and the run's context (docs/providers.md).
 */
export default {
  name: 'shards',

  // The workflow's own parameters, checked before createJobs: a function given dstack's zod
  // (so this file needs no dependencies), or any Standard Schema (zod, valibot, ...).
  schema: (z) =>
    z.object({
      file: z.string(),
      shards: z.coerce.number().int().min(1).max(32),
    }),

  createJobs(workflow, context) {
    const { file, shards } = workflow.params;
    if (shards > 8) context.warn(`${shards} shards of one small file is more jobs than it needs`);
    const jobs = [];
    for (let i = 0; i < shards; i++) {
      jobs.push({
        name: `shard-${i}`,
        commands: [`mkdir -p counts`, `awk 'NR % ${shards} == ${i}' ${file} | wc -w > counts/${i}.txt`],
        artifacts: [`counts/${i}.txt`],
      });
    }
    jobs.push({
      name: 'total',
      commands: [`cat counts/*.txt | awk '{ s += $1 } END { print "total words:", s }'`],
      depends_on: jobs.map((job) => job.name),
      artifacts: [],
    });
    return { jobs };
  },
};
