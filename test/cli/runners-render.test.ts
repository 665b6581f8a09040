/** `dstack runners`'s table: what each runner told it can run besides commands on its host, and whether it runs those. */
import { describe, expect, it } from 'vitest';
import { renderRunners } from '../../src/cli/commands/team.js';
import type { RunnerView } from '../../src/core/api.js';
import type { Capacity } from '../../src/core/resources.js';

const runner = (name: string, told: Partial<Capacity>): RunnerView => {
  const total: Capacity = { cpu: 8, memory: 16 << 30, gpus: [], ...told };
  return {
    name,
    host: `${name}.lan`,
    total,
    free: total,
    status: 'ACTIVE',
    updatedAt: 0,
    registeredAt: 0,
    jobs: [],
    otherJobs: 0,
  };
};

describe('renderRunners', () => {
  it('shows whether each has a Docker engine, which Pythons, whether it runs host jobs, and ? where a runner told nothing', () => {
    const rows = renderRunners(
      [
        runner('docker-box', { docker: true, python: ['docker'] }),
        runner('cpu-box', { docker: false, python: ['3', '3.11'] }),
        runner('bare-box', { docker: false, python: [] }),
        runner('old-box', {}),
        runner('shared-box', { docker: true, python: [], host: false }),
      ],
      0,
    ).split('\n');
    expect(rows[0]).toMatch(
      /^NAME\s+HOST\s+CPU\s+MEMORY\s+GPU\s+DOCKER\s+PYTHON\s+HOST JOBS\s+STATUS\s+JOBS\s+UPDATED$/,
    );
    const row = (name: string) => rows.find((r) => r.startsWith(name))!.replace(/\s+/g, ' ');
    expect(row('docker-box')).toContain(' - yes docker yes ACTIVE ');
    expect(row('cpu-box')).toContain(' - no 3 3.11 yes ACTIVE ');
    expect(row('bare-box')).toContain(' - no - yes ACTIVE ');
    expect(row('old-box')).toContain(' - ? ? yes ACTIVE '); // older runners run host jobs
    expect(row('shared-box')).toContain(' - yes - no ACTIVE '); // --no-host-jobs
  });
});
