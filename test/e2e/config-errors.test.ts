/** Bad input: each gives a clear message naming file, line and field (or the flag), and submits nothing. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

const GOOD = `workflows:
  - name: prepare
    commands:
      - echo prepare
    artifacts:
      - data
  - name: train
    depends-on:
      - prepare
    commands:
      - echo train $epochs
`;
const VARIABLES = `variables:
  train:
    epochs: 3
`;

describe('bad input', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
  });
  afterAll(() => sb.dispose());

  async function runWith(workflows: string, args: string[], variables = VARIABLES) {
    await sb.write({ '.dstack/workflows.yaml': workflows, '.dstack/variables.yaml': variables });
    return sb.dstack(['run', ...args]);
  }

  const cases: [string, string, string[], RegExp][] = [
    [
      'a YAML syntax error',
      'workflows:\n  - name: a\n    commands: [echo a\n',
      ['a'],
      /^error: \.dstack\/workflows\.yaml:\d+:\d+: /m,
    ],
    [
      'an unknown key, with the closest valid one',
      GOOD.replace('    commands:\n      - echo train', '    comands:\n      - echo train'),
      ['train'],
      /\.dstack\/workflows\.yaml:10:5: .*unknown key 'comands'.*did you mean 'commands'/,
    ],
    [
      'a missing workflow',
      GOOD,
      ['nope'],
      /no workflow named 'nope' in \.dstack\/workflows\.yaml \(workflows: prepare, train\)/,
    ],
    [
      'a duplicate workflow',
      GOOD + '  - name: train\n    commands:\n      - echo again\n',
      ['train'],
      /\.dstack\/workflows\.yaml:12:\d+: .*duplicate workflow name 'train'.*line 7/,
    ],
    [
      'an unknown depends-on target',
      GOOD.replace('      - prepare\n', '      - prepair\n'),
      ['train'],
      /\.dstack\/workflows\.yaml:9:\d+: workflow 'train' depends on 'prepair', which is not defined/,
    ],
    [
      'a cycle',
      GOOD.replace('    artifacts:\n      - data\n', '    depends-on:\n      - train\n'),
      ['train'],
      /\.dstack\/workflows\.yaml:\d+:\d+: dependency cycle: train -> prepare -> train/,
    ],
    [
      'an undefined ${{ var }}',
      GOOD.replace('echo train $epochs', 'echo train ${{ lr }}'),
      ['train'],
      /\.dstack\/workflows\.yaml:11:\d+: undefined variable \$\{\{ lr \}\} in 'commands\.0' of workflow 'train': define it in \.dstack\/variables\.yaml \(under 'global:' or 'train:'\), or pass --lr VALUE/,
    ],
    [
      'an unknown --flag',
      GOOD,
      ['train', '--epoch', '5'],
      /unknown option '--epoch' for workflow 'train' \(its variables: --epochs\); did you mean '--epochs'\?/,
    ],
    [
      'a one-dash variable flag',
      GOOD,
      ['train', '-epochs', '5'],
      /unknown option '-epochs'; did you mean '--epochs'\?/,
    ],
    [
      'an empty flag value',
      GOOD,
      ['train', '--epochs', ''],
      /option '--epochs' was given an empty value: give one \(--epochs VALUE\), or leave the flag out for its default/,
    ],
    [
      'an absolute artifact path',
      GOOD.replace('      - data\n', '      - /data\n'),
      ['prepare'],
      /\.dstack\/workflows\.yaml:6:\d+: artifact path '\/data' of workflow 'prepare' is absolute/,
    ],
    [
      'an artifact path that leaves the project',
      GOOD.replace('      - data\n', '      - ../data\n'),
      ['prepare'],
      /\.dstack\/workflows\.yaml:6:\d+: artifact path '\.\.\/data' of workflow 'prepare' leaves the project folder/,
    ],
    ['a flag without a value', GOOD, ['train', '--epochs'], /option '--epochs' needs a value/],
  ];

  for (const [what, workflows, args, message] of cases) {
    it(`rejects ${what} with a clear message and submits nothing`, async () => {
      const r = await runWith(workflows, args);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      const status = await sb.dstack(['status', '--last', '5']);
      expect(status.stdout).toContain(`No runs in project ${sb.root} yet`);
    });
  }

  it('sees an edit to a file it has read before (its read is kept in DSTACK_HOME/cache/yaml)', async () => {
    const good = await runWith(GOOD, ['train', '--dry-run']);
    expect(good.code).toBe(0);
    expect(await runWith(GOOD, ['train', '--dry-run'])).toEqual(good); // from the kept read
    const bad = GOOD.replace(
      '      - echo train $epochs',
      '      - echo train $epochs\n    resources:\n      gpu: lots',
    );
    const r = await runWith(bad, ['train', '--dry-run']);
    expect(r.stderr).toMatch(/\.dstack\/workflows\.yaml:13:12: .*gpu/);
    expect(r.code).toBe(2);
    expect((await readdir(join(sb.home, 'cache', 'yaml'))).filter((n) => n.endsWith('.json'))).toHaveLength(2);
  });

  it('says where it looked when there is no .dstack/workflows.yaml', async () => {
    const r = await sb.dstack(['run', 'train'], { cwd: '/' });
    expect(r.stderr).toMatch(/error: no \.dstack\/workflows\.yaml in \/ or its parents/);
    expect(r.code).toBe(2);
  });

  it('names a run or job that does not exist', async () => {
    for (const cmd of [
      ['status', 'no-such-run-1'],
      ['logs', 'no-such-run-1'],
      ['stop', 'no-such-run-1'],
      ['artifacts', 'abcdef123456'],
    ]) {
      const r = await sb.dstack(cmd);
      expect(r.stderr).toMatch(/error: no run or job named '(no-such-run-1|abcdef123456)'/);
      expect(r.code).toBe(1);
    }
  });

  it("names a workflow's last job when given a workflow where a run or job goes, and the command meant", async () => {
    const run = await runWith(GOOD, ['train']);
    expect(run.code).toBe(0);
    const { jobs, name } = JSON.parse((await sb.dstack(['status', '--json'])).stdout)[0] as {
      name: string;
      jobs: { id: string; workflow: string }[];
    };
    const train = jobs.find((j) => j.workflow === 'train')!.id;
    const missing = (what: string) => `error: no run or job named '${what}' (see 'dstack status --last 10')`;
    for (const command of ['logs', 'stop', 'resume', 'artifacts']) {
      const r = await sb.dstack([command, 'train']);
      expect([r.code, r.stderr]).toEqual([
        1,
        `${missing('train')}; 'train' is a workflow, whose last job here is ${train} (run ${name}): dstack ${command} ${train}\n`,
      ]);
    }
    const status = await sb.dstack(['status', 'train']);
    expect(status.stderr).toBe(
      `${missing('train')}; 'train' is a workflow, whose last job here is ${train} (run ${name}): dstack status ${name}\n`,
    );
    // A name that is no workflow run here is answered as before.
    expect((await sb.dstack(['logs', 'evaluate'])).stderr).toBe(`${missing('evaluate')}\n`);
  });

  it('says a --workflow that matches no run matched none, with the workflow of the file it is close to', async () => {
    const r = await sb.dstack(['status', '--workflow', 'trian']);
    expect(r.stdout).toBe(
      `No runs of workflow 'trian' (did you mean 'train'?) in project ${sb.root} ('dstack status --last 10' lists ` +
        "its latest runs, 'dstack status --all' every project's).\n",
    );
    expect(r.code).toBe(0);
  });

  it('rejects a bad --since and a bad --last', async () => {
    const since = await sb.dstack(['logs', 'x-y-1', '--since', 'yesterday']);
    expect(since.stderr).toMatch(/invalid --since 'yesterday': use a relative time like 5m/);
    expect(since.code).toBe(2);
    const last = await sb.dstack(['status', '--last', 'zero']);
    expect(last.stderr).toMatch(/invalid --last 'zero': expected a whole number from 1 to 10000/);
    expect(last.code).toBe(2);
  });

  it('refuses an empty run, job or tag argument, and an empty --output, --workflow or --private-key, naming them', async () => {
    const expected: [string[], string][] = [
      [['logs', ''], "dstack logs: RUN or JOB is empty: give one ('dstack status --last 10' lists runs and jobs)"],
      [['stop', ' '], "dstack stop: RUN or JOB is empty: give one ('dstack status --last 10' lists runs and jobs)"],
      [['artifacts', ''], "dstack artifacts: JOB is empty: give one ('dstack status --last 10' lists runs and jobs)"],
      [['status', ''], "dstack status: RUN is empty: give one ('dstack status --last 10' lists runs and jobs)"],
      [['tags', 'delete', ''], "dstack tags delete: TAG is empty: give one ('dstack tags list' lists tags)"],
      [['artifacts', 'abcdefabcdef', '-o', ''], '--output is empty: give a folder (write -o . for this one)'],
      [['status', '--workflow', ''], '--workflow is empty: give a workflow name'],
      [['init', '--private-key', ''], "--private-key is empty: give the key file's path (~/.ssh/id_ed25519)"],
    ];
    for (const [args, message] of expected) {
      const r = await sb.dstack(args);
      expect(r.stderr, args.join(' ')).toBe(`error: ${message}\n`);
      expect(r.code).toBe(2);
    }
  });

  it("answers the reference's 'dstack aws config' with where storage is set now, hidden from the help", async () => {
    for (const args of [['aws', 'config'], ['aws'], ['aws', 'config', '--help']]) {
      const r = await sb.dstack(args);
      expect(r.stderr).toBe(
        "error: dstack has no 'aws' command: artifacts are stored where the server is told, with " +
          "'dstack server --storage s3://BUCKET/PREFIX' (or DSTACK_STORAGE) and the standard AWS credentials " +
          "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; AWS_REGION): storage is the server's, " +
          "not each user's (see docs/storage.md)\n",
      );
      expect(r.code).toBe(2);
    }
    expect((await sb.dstack(['--help'])).stdout).not.toContain('aws');
  });

  it('refuses an unknown DSTACK_LOG_LEVEL, naming the levels; takes a known one in any case', async () => {
    // `verbose` was taken as `info` in silence.
    for (const [value, args] of [
      ['verbose', ['status']],
      ['trace', ['server', 'stop']],
    ] as const) {
      const r = await sb.dstack([...args], { env: { DSTACK_LOG_LEVEL: value } });
      expect([r.code, r.stdout, r.stderr]).toEqual([
        2,
        '',
        `error: invalid DSTACK_LOG_LEVEL '${value}': expected one of debug, info, warn, error\n`,
      ]);
    }
    const r = await sb.dstack(['status'], { env: { DSTACK_LOG_LEVEL: 'DEBUG' } });
    expect([r.code, r.stderr]).toEqual([0, '']);
  });

  it('refuses an on-off setting that is neither, rather than read it one way in silence', async () => {
    // `DSTACK_S3_PATH_STYLE=false` turned path-style addressing on.
    for (const [name, value] of [
      ['DSTACK_S3_PATH_STYLE', 'no'],
      ['DSTACK_DEBUG', 'yes'],
    ] as const) {
      const r = await sb.dstack(['status'], { env: { [name]: value } });
      expect([r.code, r.stdout, r.stderr]).toEqual([
        2,
        '',
        `error: invalid ${name} '${value}': expected 1 or true (on), 0 or false (off)\n`,
      ]);
    }
    const r = await sb.dstack(['status'], { env: { DSTACK_S3_PATH_STYLE: 'False', DSTACK_DEBUG: '0' } });
    expect([r.code, r.stderr]).toEqual([0, '']);
  });

  it('rejects an unknown command option', async () => {
    const r = await sb.dstack(['status', '--lats', '2']);
    expect(r.stderr).toMatch(/unknown option '--lats'/);
    expect(r.code).toBe(2);
  });
});
