/**
 * Flags and arguments the CLI checks itself, before it reaches a server: each refusal names
 * the flag and the range or rule it takes (not the server's `invalid request: grace: …`), and
 * an unknown subcommand is named as one, with the group's commands.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe('flag values and subcommands the CLI refuses', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({ '.dstack/workflows.yaml': 'workflows:\n  - name: a\n    commands: [echo a]\n' });
  });
  afterAll(async () => {
    // Every refusal came before a server was needed: none was started.
    const started = await access(join(sb.home, 'server', 'server.json')).then(
      () => true,
      () => false,
    );
    await sb.dispose();
    expect(started).toBe(false);
  });

  /** `dstack ARGS`' error, asserting it is a usage error (exit 2) that printed nothing else. */
  const refusal = async (args: string[]): Promise<string> => {
    const r = await sb.dstack(args);
    expect(r.stdout, args.join(' ')).toBe('');
    expect(r.code, args.join(' ')).toBe(2);
    return r.stderr;
  };

  it('refuses a --grace out of its range, or written other than in decimal seconds', async () => {
    for (const grace of ['86401', '0x10', '1e3', '-1', 'soon', ''])
      expect(await refusal(['stop', '--grace', grace, 'some-run-1'])).toBe(
        `error: invalid --grace '${grace}': expected seconds from 0 to 86400 (a day), like 30\n`,
      );
  });

  it('refuses --grace with --abort, which kills at once', async () => {
    expect(await refusal(['stop', '-a', '--grace', '50', 'some-run-1'])).toBe(
      'error: --grace is how long a stop waits between SIGTERM and SIGKILL, and --abort kills at once: ' +
        "give one or the other ('dstack stop --grace 50 some-run-1' saves the artifacts)\n",
    );
  });

  it('refuses a --last out of its range', async () => {
    for (const last of ['99999999999999999999', '10001', '0', 'zero', '0x10', '1.5'])
      expect(await refusal(['status', '--last', last])).toBe(
        `error: invalid --last '${last}': expected a whole number from 1 to 10000\n`,
      );
  });

  it('refuses a --status that is no status', async () => {
    expect(await refusal(['status', '--status', 'broken'])).toBe(
      "error: invalid --status 'broken': expected one of SUBMITTED, DOWNLOADING, RUNNING, UPLOADING, DONE, " +
        'FAILED, STOPPING, STOPPED, ABORTING, ABORTED\n',
    );
  });

  it('refuses an --older-than past a hundred years', async () => {
    expect(await refusal(['prune', '--older-than', '99999999999999d'])).toBe(
      "error: invalid --older-than '99999999999999d': at most 36500d (100 years)\n",
    );
    expect(await refusal(['prune', '--older-than', '876001h'])).toBe(
      "error: invalid --older-than '876001h': at most 36500d (100 years)\n",
    );
  });

  it("refuses a new user's or runner's name that breaks the rule, naming the rule", async () => {
    const rule = "use lower-case letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64";
    expect(await refusal(['users', 'add', 'bad name'])).toBe(`error: invalid user name 'bad name': ${rule}\n`);
    const long = 'x'.repeat(200);
    expect(await refusal(['users', 'add', long])).toBe(`error: invalid user name '${long}': ${rule}\n`);
    expect(await refusal(['runners', 'add', 'GPU'])).toBe(`error: invalid runner name 'GPU': ${rule}\n`);
  });

  it("names an unknown subcommand as unknown, listing the group's commands and suggesting one", async () => {
    expect(await refusal(['tags', 'rm', 'x'])).toBe(
      "error: unknown command 'dstack tags rm' (dstack tags takes list, add, delete); did you mean 'delete'?\n",
    );
    expect(await refusal(['users', 'bogus'])).toBe(
      "error: unknown command 'dstack users bogus' (dstack users takes list, add, delete, promote, demote, token)\n",
    );
    expect(await refusal(['runners', 'ad', 'r1'])).toBe(
      "error: unknown command 'dstack runners ad' (dstack runners takes list, add, delete, token); did you mean 'add'?\n",
    );
    expect(await refusal(['runners', 'ls'])).toContain("did you mean 'list'?");
    // A group that runs itself (dstack config --server URL) names the word too, not 'too many arguments'.
    expect(await refusal(['config', 'bogus'])).toBe(
      "error: unknown command 'dstack config bogus' (dstack config takes list, or options alone)\n",
    );
    expect(await refusal(['server', '--port', '3999', 'stp'])).toBe(
      "error: unknown command 'dstack server stp' (dstack server takes stop, or options alone); did you mean 'stop'?\n",
    );
    expect(await refusal(['config', 'list', 'x'])).toContain("too many arguments for 'list'");
    expect(await refusal(['server', 'stop', 'x'])).toContain("too many arguments for 'stop'");
    // The default command named, or an option of it, is still that command.
    expect(await refusal(['tags', 'list', 'x'])).toContain("too many arguments for 'list'");
    expect(await refusal(['tags', '--bogus'])).toContain("unknown option '--bogus'");
  });

  it('describes the list commands in their group help', async () => {
    for (const group of ['users', 'runners']) {
      const help = await sb.dstack([group, '--help']);
      expect(help.stdout, group).toMatch(new RegExp(`^  list +list the ${group}`, 'm'));
    }
  });
});
