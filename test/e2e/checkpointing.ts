/**
 * The stop-and-resume fixture: a workflow whose job counts its starts in checkpoint/count,
 * prints "starting from N" and "ready", runs until SIGTERM, then writes checkpoint/state
 * ("saved") and exits 0, keeping checkpoint/ as its artifact.
 *
 * `|| true` after the sleep: a scancel signals the job's processes one by one, and a `sleep`
 * killed before bash itself hears the SIGTERM would end the script through `-e` without
 * running its trap.
 */
export function checkpointingWorkflow(name: string, ...more: string[]): string {
  return [
    `  - name: ${name}`,
    ...more.map((line) => `    ${line}`),
    '    commands:',
    '      - mkdir -p checkpoint',
    '      - |',
    "        trap 'echo got SIGTERM; echo saved > checkpoint/state; exit 0' TERM",
    '        n=$(cat checkpoint/count 2>/dev/null || echo 0)',
    '        echo "starting from $n"',
    '        echo $((n + 1)) > checkpoint/count',
    '        echo ready',
    '        while true; do sleep 0.1 || true; done',
    '    artifacts:',
    '      - checkpoint',
    '',
  ].join('\n');
}

/**
 * A workflow whose job, on SIGTERM, takes 3 s to save checkpoint/state in a command of its
 * own (as a training script does), with another command after it: the job's shell ends (or
 * would) before the save does. It prints "ready" once running, "saved it" once saved.
 */
export function slowSaverWorkflow(name: string, ...more: string[]): string {
  return [
    `  - name: ${name}`,
    ...more.map((line) => `    ${line}`),
    '    commands:',
    '      - mkdir -p checkpoint',
    `      - sh -c 'trap "sleep 3; echo saved > checkpoint/state; echo saved it; exit 0" TERM; echo ready; while true; do sleep 0.1; done'`,
    '      - echo training done', // the shell waits for the command above, rather than exec it as its last
    '    artifacts: [checkpoint]',
    '',
  ].join('\n');
}

/**
 * A training-like workflow counting epochs up to the variable `epochs`, 0.1 s each, from the
 * checkpoint it finds: it writes checkpoint/epoch before it prints `epoch N`, so a kill leaves
 * the checkpoint at the last epoch said, or one past it. It prints `resuming from epoch N` first.
 */
export function epochsWorkflow(name: string): string {
  return [
    `  - name: ${name}`,
    '    commands:',
    '      - mkdir -p checkpoint',
    '      - |',
    '        n=$(cat checkpoint/epoch 2>/dev/null || echo 0)',
    '        echo "resuming from epoch $n"',
    '        while [ $n -lt $epochs ]; do n=$((n + 1)); echo $n > checkpoint/epoch; echo "epoch $n"; sleep 0.1; done',
    '    artifacts: [checkpoint]',
    '',
  ].join('\n');
}

/** The epochs an epochsWorkflow job's log says, in order. */
export function epochsSaid(log: string): number[] {
  return [...log.matchAll(/^epoch (\d+)$/gm)].map((m) => Number(m[1]));
}
