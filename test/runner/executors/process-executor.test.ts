import { tmpdir } from 'node:os';
import { ProcessExecutor } from '../../../src/runner/executors/process-executor.js';
import { executorConformance } from './executor-conformance.js';

executorConformance({
  name: 'process',
  executor: async () => new ProcessExecutor(tmpdir()),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
});
