/** The environment jobs inherit from their runner: everything but dstack's own settings and secrets. */
export function runnerEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key.startsWith('DSTACK_')) continue;
    out[key] = value;
  }
  return out;
}
