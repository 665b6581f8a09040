/**
 * What a job's environment variable may be called: what a shell and execve take as a name.
 * `A=B` would be read as `A` set to `B=…`, and `1BAD` or `` cannot be referenced in a shell,
 * so workflows and custom providers' jobs are both held to this one rule.
 */
const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The rule, for messages that refuse a name. */
export const ENVIRONMENT_NAME_RULE = "use letters, digits and '_', not starting with a digit";

export function isEnvironmentName(name: string): boolean {
  return ENVIRONMENT_NAME.test(name);
}
