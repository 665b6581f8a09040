/**
 * A stdout line longer than the runner's 64 KiB entries, with a stderr line written between its
 * pieces: where stdout and stderr go to different places (`2>/dev/null`, a pipe each) the line
 * reaches stdout whole, from `dstack logs` and a followed `dstack run` alike; where they share
 * one (`2>&1`), the stderr line goes on a line of its own between the line's two parts, in the
 * order the job wrote them however slowly the reader takes them.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from './harness.js';

const X = (n: number) => `head -c ${n} /dev/zero | tr '\\0' X`;
// The first 64 KiB go as a partial entry; the stderr line comes while the line is unfinished.
// The sleeps let the runner read one stream's output before the other's (each is its own pipe).
const WORKFLOWS = `workflows:
  - name: long
    commands:
      - echo before; sleep 0.3; echo warming up >&2; sleep 0.3
      - ${X(70_000)}; sleep 0.3; echo between >&2; sleep 0.3; ${X(130_000)}; echo " END"
      - echo after
`;
const LONG = `${'X'.repeat(200_000)} END`;
/** Each line's length: a line cut in two shows as 65536 and the rest (the whole text in a failure is 200 KB). */
const lengths = (text: string) => text.split('\n').map((l) => l.length);

describe('a stdout line longer than 64 KiB with stderr between its pieces', () => {
  let sb: Sandbox;
  let run: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': WORKFLOWS });
    run = await sb.dstack(['run', 'long']);
  });
  afterAll(() => sb.dispose());

  it("reaches a followed run's stdout whole, the stderr lines on stderr", () => {
    expect(run.code).toBe(0);
    expect(lengths(run.stdout)).toEqual([6, LONG.length, 5, 0]);
    expect(run.stdout).toBe(`before\n${LONG}\nafter\n`);
    expect(run.stderr).toContain('warming up\nbetween\n');
  });

  it('reaches the stdout of dstack logs whole when stderr goes elsewhere', async () => {
    const runName = run.stderr.match(/^run (\S+):/m)![1]!;
    const logs = await sb.dstack(['logs', runName]);
    expect(lengths(logs.stdout)).toEqual([6, LONG.length, 5, 0]);
    expect(logs.stdout).toBe(run.stdout);
    expect(logs.stderr).toBe('warming up\nbetween\n');
  });

  it('is ended where stderr cuts in when both go to one place, and goes on on the next line', async () => {
    const runName = run.stderr.match(/^run (\S+):/m)![1]!;
    // A reader slower than the printer (a pager, awk on a busy machine): the pipe fills while
    // stdout's bytes still wait, and stderr's must not overtake them into the line.
    const merged = await new Promise<string>((resolve, reject) =>
      execFile(
        'sh',
        ['-c', '"$0" logs "$1" 2>&1 | (sleep 1; cat)', BIN, runName],
        { cwd: sb.root, env: sb.env(), maxBuffer: 8 << 20 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
    expect(lengths(merged)).toEqual([6, 10, 65_536, 7, LONG.length - 65_536, 5, 0]);
    expect(merged).toBe(`before\nwarming up\n${'X'.repeat(65_536)}\nbetween\n${LONG.slice(65_536)}\nafter\n`);
  });
});
