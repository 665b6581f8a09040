/**
 * Each variable is in the job's environment upper-cased, so two a workflow sees with one
 * environment name (`y` and `Y`, `Foo_bar` and `foo_bar`) would give the job one value, the last
 * one's, in silence: refused when the run is planned, naming both and where each was set.
 */
import { ConfigError, UsageError, formatLocation, type SourceLocation } from './errors.js';

/** Where a variable's value came from: its flag, or its line in variables.yaml. */
export type VariableOrigin = { flag: string } | { at: SourceLocation } | undefined;

export function refuseSharedEnvironmentNames(
  vars: ReadonlyMap<string, string>,
  workflow: string,
  origin: (name: string) => VariableOrigin,
): void {
  const seen = new Map<string, string>();
  for (const name of vars.keys()) {
    const env = name.toUpperCase();
    const first = seen.get(env);
    if (first === undefined) {
      seen.set(env, name);
      continue;
    }
    const named = (n: string) => {
      const o = origin(n);
      return o === undefined ? `'${n}'` : `'${n}' (${'flag' in o ? o.flag : formatLocation(o.at)})`;
    };
    const detail =
      `variables ${named(first)} and ${named(name)} of workflow '${workflow}' would both be the job's ` +
      `environment variable ${env} (each variable is in it, upper-cased), the one replacing the other: rename one`;
    // At the later one's line where it has one (the first's else); from flags alone, a usage error.
    const at = [name, first].map(origin).find((o) => o !== undefined && 'at' in o);
    if (at === undefined) throw new UsageError(detail);
    throw new ConfigError(detail, at.at);
  }
}
