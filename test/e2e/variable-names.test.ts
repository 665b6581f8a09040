/**
 * Names as a job and the CLI see them: a dashed variable reaches the job braced; a variable,
 * environment name or input glob that cannot work is refused before anything runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.js';

const WORKFLOWS = `workflows:
  - name: a
    commands:
      - echo "A=$learning-rate B=\${learning-rate} C=\${{ learning-rate }}"
`;

describe('variable names', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await Sandbox.create();
    await sb.write({
      '.dstack/workflows.yaml': WORKFLOWS,
      '.dstack/variables.yaml': 'variables:\n  a:\n    learning-rate: 2e-5\n',
    });
  });
  afterAll(() => sb.dispose());

  it("gives the job ${learning-rate}, and warns that $learning-rate is the shell's $learning then -rate", async () => {
    const r = await sb.dstack(['run', 'a']);
    expect(r.stdout).toContain('A=-rate B=2e-5 C=2e-5\n');
    expect(r.stderr).toContain(
      "warning: .dstack/workflows.yaml:4:9: 'commands.0' of workflow 'a': the shell reads $learning-rate as " +
        "$learning then '-rate'; write ${learning-rate} for the variable 'learning-rate'\n",
    );
    expect(r.code).toBe(0);
  });

  it('warns that a value with shell syntax is pasted into the commands, and "$MSG" gives it as one word', async () => {
    await sb.write({
      '.dstack/workflows.yaml':
        'workflows:\n  - name: q\n    commands:\n      - echo $msg\n      - echo "${{ msg }}"\n' +
        `      - printf '[%s]\\n' "$MSG"\n`,
      '.dstack/variables.yaml': 'variables:\n  q:\n    msg: hi\n',
    });
    try {
      const r = await sb.dstack(['run', 'q', '--msg', 'two words; echo INJECTED']);
      // Pasted, the value ran as two commands; quoted ("${{ msg }}", "$MSG") it stayed one word.
      expect(r.stdout).toContain('two words\nINJECTED\ntwo words; echo INJECTED\n[two words; echo INJECTED]\n');
      expect(r.stderr).toContain(
        "warning: .dstack/workflows.yaml:4:9: 'commands.0' of workflow 'q': the value of variable 'msg' is pasted " +
          'into the command as written, and has characters the shell reads as syntax (whitespace, quotes, ' +
          ';&|<>()$`\\*?[); the job has it in its environment: "$MSG" gives the shell the value as one word\n',
      );
      expect(r.stderr.split('is pasted into').length).toBe(2); // once, not for each command
      expect(r.code).toBe(0);
    } finally {
      await sb.write({
        '.dstack/workflows.yaml': WORKFLOWS,
        '.dstack/variables.yaml': 'variables:\n  a:\n    learning-rate: 2e-5\n',
      });
    }
  });

  it('warns at its line that $epoch is one edit from the variable epochs, and runs the job as written', async () => {
    await sb.write({
      '.dstack/workflows.yaml':
        'workflows:\n  - name: typo\n    commands:\n      - echo "epochs=$epoch batch=${batch_sise}"\n',
      '.dstack/variables.yaml': 'variables:\n  typo:\n    epochs: 3\n    batch_size: 4\n',
    });
    try {
      const r = await sb.dstack(['run', 'typo']);
      const misspelt = (written: string, meant: string) =>
        `warning: .dstack/workflows.yaml:4:9: 'commands.0' of workflow 'typo': ${written} is no variable of the ` +
        `workflow and nothing dstack sets, so the shell reads it as empty unless the job sets it; did you mean ${meant}?\n`;
      expect(r.stderr).toContain(misspelt('$epoch', '$epochs') + misspelt('${batch_sise}', '${batch_size}'));
      // A warning, not an error: the job may set such a name itself.
      expect(r.stdout).toContain('epochs= batch=\n');
      expect(r.code).toBe(0);
    } finally {
      await sb.write({
        '.dstack/workflows.yaml': WORKFLOWS,
        '.dstack/variables.yaml': 'variables:\n  a:\n    learning-rate: 2e-5\n',
      });
    }
  });

  const refused = async (files: Record<string, string>, stderr: string) => {
    await sb.write(files);
    try {
      const r = await sb.dstack(['run', 'a', '--dry-run']);
      expect(r.stderr).toBe(`error: ${stderr}\n`);
      expect(r.code).toBe(2);
    } finally {
      await sb.write({
        '.dstack/workflows.yaml': WORKFLOWS,
        '.dstack/variables.yaml': 'variables:\n  a:\n    learning-rate: 2e-5\n',
      });
    }
  };

  it('refuses a variable name with a space, which $variables_as_args would split', () =>
    refused(
      { '.dstack/variables.yaml': 'variables:\n  a:\n    x: 1\n    "y z": 2\n' },
      ".dstack/variables.yaml:4:5: variable name 'y z' in section 'a' is not valid: use letters, digits, '_' and '-', " +
        "starting with a letter or '_'",
    ));

  it("refuses a variable that would replace the job's PATH, before anything runs", () =>
    refused(
      { '.dstack/variables.yaml': 'variables:\n  a:\n    path: data/raw\n' },
      ".dstack/variables.yaml:3:5: variable 'path' in section 'a' would replace the job's PATH " +
        "(each variable is in the job's environment, upper-cased): rename it",
    ));

  it('refuses an environment variable name that is no name', () =>
    refused(
      { '.dstack/workflows.yaml': `${WORKFLOWS}    environment:\n      "A=B": 1\n` },
      ".dstack/workflows.yaml:6:7: environment variable name 'A=B' of workflow 'a' is not valid: " +
        "use letters, digits and '_', not starting with a digit",
    ));

  it('refuses an input glob that leaves the project, as an artifact path that does', () =>
    refused(
      { '.dstack/workflows.yaml': `${WORKFLOWS}    inputs: ["../x"]\n` },
      ".dstack/workflows.yaml:5:14: input '../x' of workflow 'a' leaves the project folder",
    ));
});
