/**
 * A long-lived process's arguments are readable by every user of the machine (`ps`,
 * /proc/PID/cmdline). Setting `process.title` rewrites them there (Linux: in place, no
 * longer than they were), so a secret given as a flag leaves them once the process has started.
 */

/** `args` with the value of `flag` (as `--flag VALUE` or `--flag=VALUE`) passed through `mask`. */
export function maskedArgs(args: readonly string[], flag: string, mask: (value: string) => string): string[] {
  return args.map((arg, i) => {
    if (args[i - 1] === flag) return mask(arg);
    return arg.startsWith(`${flag}=`) ? `${flag}=${mask(arg.slice(flag.length + 1))}` : arg;
  });
}

/** Show this process as `dstack ARGS`, with `flag`'s value masked, where masking changes it. */
export function hideFlagValue(flag: string, mask: (value: string) => string): void {
  const args = process.argv.slice(2);
  const masked = maskedArgs(args, flag, mask);
  if (masked.some((arg, i) => arg !== args[i])) process.title = ['dstack', ...masked].join(' ');
}
