/** A worker thread of file-workers.ts: runs each file job it is sent (one at a time) and answers with its result. */
import { parentPort } from 'node:worker_threads';
import { runFileJob, type FileJob } from './file-jobs.js';

parentPort!.on('message', (job: FileJob) => {
  try {
    parentPort!.postMessage({ result: runFileJob(job) });
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
