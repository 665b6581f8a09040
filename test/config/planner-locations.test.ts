/** The planner reports errors at the locations config/ recorded: the contract between the two. */
import { describe, expect, it } from 'vitest';
import { buildProject } from '../../src/config/index.js';
import { plan } from '../../src/core/planner.js';
import { builtinJobs } from '../../src/providers/builtin.js';
import { fieldsAsJob, yaml } from './helpers.js';

const provider = fieldsAsJob;

const run = (workflows: string, variables?: string, target = 'train') =>
  plan(buildProject('/p', workflows, variables), { target, overrides: {} }, provider);

describe('planner errors at config locations', () => {
  it('points an undefined ${{ }} in a command at that command', async () => {
    const text = yaml(
      'workflows:',
      '  - name: train',
      '    commands:',
      '      - echo ok',
      '      - python train.py --lr ${{ lr }}',
    );
    await expect(run(text)).rejects.toThrow(
      /^\.dstack\/workflows\.yaml:5:9: undefined variable \$\{\{ lr \}\} in 'commands\.1'/,
    );
  });

  it("refuses a ${{ that is not a ${{ name }} (unclosed, another tool's syntax), at its field", async () => {
    const workflow = (command: string) =>
      yaml('workflows:', '  - name: train', '    commands:', '      - echo ok', `      - ${command}`);
    await expect(run(workflow('echo ${{ nope'))).rejects.toThrow(
      ".dstack/workflows.yaml:5:9: malformed variable reference '${{ nope' in 'commands.1' of workflow 'train': " +
        'write ${{ name }}, a name of letters, digits, _ and -',
    );
    await expect(run(workflow("'echo ${{ github.sha }}'"))).rejects.toThrow(
      "malformed variable reference '${{ github.sha }}' in 'commands.1'",
    );
    // A value that holds ${{ is the variable's, not a reference: left alone.
    const plan = await run(workflow('echo ${{ x }}'), yaml('variables:', '  train:', "    x: '${{ y'"));
    expect(plan.jobs[0]!.commands).toContain('echo ${{ y');
  });

  it("points an empty commands list at its line, and a workflow without one at the workflow's", async () => {
    const plain = (workflows: string) =>
      plan(buildProject('/p', workflows), { target: 'train', overrides: {} }, (wf, ctx) => builtinJobs(wf, ctx));
    await expect(plain(yaml('workflows:', '  - name: train', '    help: h', '    commands: []'))).rejects.toThrow(
      ".dstack/workflows.yaml:4:5: workflow 'train' has no commands to run",
    );
    await expect(plain(yaml('workflows:', '  - name: train', '    image: busybox'))).rejects.toThrow(
      ".dstack/workflows.yaml:2:5: workflow 'train' has no commands to run",
    );
  });

  it('points a bad value a merge key brought (<<: *base) at the line it was written on', async () => {
    const text = yaml(
      'workflows:',
      '  - &base',
      '    name: prepare',
      '    resources: {cpu: two}',
      '    commands: [ls]',
      '  - <<: *base',
      '    name: train',
    );
    await expect(run(text)).rejects.toThrow(
      ".dstack/workflows.yaml:4:22: invalid resources.cpu 'two' in workflow 'train': expected a whole number",
    );
  });

  it('points a missing dependency at its depends-on item', async () => {
    const text = yaml('workflows:', '  - name: train', '    commands: [ls]', '    deps:', '      - workflow: prepare');
    await expect(run(text)).rejects.toThrow(
      ".dstack/workflows.yaml:5:9: workflow 'train' depends on 'prepare', which is not defined",
    );
  });

  it("points a bad gpu count a variable made at the variable's line, naming the field's", async () => {
    const text = yaml(
      'workflows:',
      '  - name: train',
      '    commands: [ls]',
      '    resources:',
      '      gpu: ${{ pgpu }}',
    );
    const vars = yaml('variables:', '  train:', '    pgpu: many');
    await expect(run(text, vars)).rejects.toThrow(
      ".dstack/variables.yaml:3:11: invalid value 'many' of variable 'pgpu': " +
        "resources.gpu of workflow 'train' (.dstack/workflows.yaml:5:12) takes a whole number",
    );
    // From the command line: the flag is named.
    await expect(
      plan(buildProject('/p', text, vars), { target: 'train', overrides: { pgpu: 'two' } }, provider),
    ).rejects.toThrow("invalid --pgpu 'two': resources.gpu of workflow 'train' takes a whole number");
    // A value made of two variables is the field's.
    const two = text.replace('${{ pgpu }}', '${{ pgpu }}${{ pgpu }}');
    await expect(run(two, vars)).rejects.toThrow(
      ".dstack/workflows.yaml:5:12: invalid resources.gpu 'manymany' in workflow 'train' (from " +
        "'${{ pgpu }}${{ pgpu }}', where 'pgpu' is 'many', set at .dstack/variables.yaml:3:11): expected a whole number",
    );
  });

  it("blames the field, not the variable, for a bad value the workflow's text around the variable makes", async () => {
    const text = yaml(
      'workflows:',
      '  - name: train',
      '    commands: [ls]',
      '    resources:',
      '      memory: ${{ g }}XB',
      '      gpu: ${{ n }}${{ unit }}',
    );
    const vars = (g: string) => yaml('variables:', '  global:', `    g: "${g}"`, '    n: "1"', '    unit: x');
    const e = run(text, vars('4'));
    await expect(e).rejects.toThrow(
      ".dstack/workflows.yaml:5:15: invalid resources.memory '4XB' in workflow 'train' (from '${{ g }}XB', where " +
        "'g' is '4', set at .dstack/variables.yaml:3:8): expected a size like 512MB or 32GB",
    );
    await expect(e).rejects.toMatchObject({ field: 'resources.memory' });
    // From the command line too: the field is still at fault, and the flag is named as the source.
    const flag = plan(buildProject('/p', text, vars('4')), { target: 'train', overrides: { g: '8' } }, provider);
    await expect(flag).rejects.toThrow(
      ".dstack/workflows.yaml:5:15: invalid resources.memory '8XB' in workflow 'train' (from '${{ g }}XB', where " +
        "'g' is '8', set by --g): expected a size like 512MB or 32GB",
    );
    // Two variables, each named with where it was set.
    await expect(run(text.replace('XB', 'GB'), vars('4'))).rejects.toThrow(
      ".dstack/workflows.yaml:6:12: invalid resources.gpu '1x' in workflow 'train' (from '${{ n }}${{ unit }}', " +
        "where 'n' is '1', set at .dstack/variables.yaml:4:8 and 'unit' is 'x', set at .dstack/variables.yaml:5:11): " +
        'expected a whole number',
    );
  });

  it('refuses a count past what a number holds, and a GPU memory without its unit that would be megabytes', async () => {
    const resources = (...lines: string[]) =>
      yaml('workflows:', '  - name: train', '    commands: [ls]', '    resources:', ...lines);
    await expect(run(resources('      cpu: 99999999999999999999'))).rejects.toThrow(
      ".dstack/workflows.yaml:5:12: invalid resources.cpu '99999999999999999999' in workflow 'train': expected a whole number",
    );
    await expect(run(resources('      gpu:', '        count: 1', '        memory: 40'))).rejects.toThrow(
      ".dstack/workflows.yaml:7:17: invalid resources.gpu.memory '40' in workflow 'train': expected a size with " +
        'its unit, like 40GB (a bare number is megabytes)',
    );
    const plan = await run(resources('      gpu:', '        count: 1', '        memory: 40GB'));
    expect(plan.jobs[0]!.resources).toMatchObject({ gpu: 1, gpuMemory: 40e9 });
  });

  it('points a cycle at the depends-on key', async () => {
    const text = yaml(
      'workflows:',
      '  - name: train',
      '    commands: [ls]',
      '    depends-on: [prep]',
      '  - name: prep',
      '    commands: [ls]',
      '    depends-on: [train]',
    );
    await expect(run(text)).rejects.toThrow('.dstack/workflows.yaml:4:5: dependency cycle: train -> prep -> train');
  });

  it('substitutes variables kept as written: 0.00002 reaches the command unchanged', async () => {
    const text = yaml('workflows:', '  - name: train', '    commands: [python train.py --lr $lr]');
    const result = await run(text, yaml('variables:', '  train:', '    lr: 0.00002'));
    expect(result.jobs[0]!.commands).toEqual(['python train.py --lr 0.00002']);
  });
});
