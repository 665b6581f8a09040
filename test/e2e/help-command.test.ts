/** `dstack help COMMAND...` is `dstack COMMAND... --help`, for every command. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

describe('dstack help', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml':
        'workflows:\n  - name: prepare\n    help: makes the data\n    commands: [echo p]\n' +
        '  - name: train\n    commands: [echo t]\n',
    });
  });
  afterAll(() => sb.dispose());

  it("prints what COMMAND --help prints, run's own help and nested commands included", async () => {
    const run = await sb.dstack(['help', 'run']);
    expect(run.code).toBe(0);
    for (const part of ['-d', '--tag TAG', '--no-cache', '--dry-run', 'prepare', 'makes the data', 'train']) {
      expect(run.stdout).toContain(part);
    }
    const commands = [
      [],
      ['run'],
      ['run', 'train'],
      ['status'],
      ['tags'],
      ['tags', 'add'],
      ['tags', 'delete'],
      ['runners', 'token'],
      ['users', 'token'],
      ['runner', 'start'],
      ['server', 'stop'],
      ['config', 'list'],
      ['help'],
    ];
    for (const command of commands) {
      const viaHelp = await sb.dstack(['help', ...command]);
      expect(viaHelp.code, command.join(' ')).toBe(0);
      expect(viaHelp, command.join(' ')).toEqual(await sb.dstack([...command, '--help']));
    }
    expect((await sb.dstack(['help', 'tags', 'add'])).stdout).toContain('Usage: dstack tags add [options] <tag> <run>');
    // What the deletions do beyond the token, as the server does it.
    const help = async (...command: string[]) => (await sb.dstack([...command, '--help'])).stdout.replace(/\s+/g, ' '); // as wrapped to any width
    expect(await help('users', 'delete')).toContain(
      'delete a user: their tokens and registered repo credentials; their unfinished jobs are stopped (artifacts saved), their runs stay',
    );
    expect(await help('runners', 'delete')).toContain(
      'delete a runner and its token: its unfinished jobs fail, and the runner process exits',
    );
  });

  it('names a command there is not, and where to look', async () => {
    expect(await sb.dstack(['help', 'nope'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: 'dstack' has no command 'nope' (dstack --help lists its commands)\n",
    });
    expect(await sb.dstack(['help', 'tags', 'nope'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: 'dstack tags' has no command 'nope' (dstack tags --help lists its commands)\n",
    });
    expect(await sb.dstack(['help', 'logs', 'nope'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: 'dstack logs' has no command 'nope' (dstack logs --help shows what it takes)\n",
    });
  });
});
