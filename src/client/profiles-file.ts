/** The text of config.yml as profiles, checked with errors that name the file, line and field. */
import { validate } from '../config/issues.js';
import { locate, parseYaml, toPlain } from '../config/yaml-source.js';
import { zod } from '../config/zod-lib.js';
import { ConfigError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';
import { dstackServerUrlProblem } from '../core/server-url.js';
import type { CliConfig } from './profiles.js';

function schema() {
  const z = zod();
  // Strict: a misspelt key (`sever:`) is named with the key meant. Both keys are checked for
  // afterwards, as zod would first report the one missing, at the line before the misspelt one.
  const profile = z.strictObject({ server: z.string().optional(), token: z.string().min(1).optional() });
  return z.strictObject({
    current: z.string().nullish(),
    profiles: z.record(z.string(), profile).nullish(),
  });
}

/** `text` of the config.yml at `file` (its absolute path, as errors name it). */
export function parseCliConfig(text: string, file: string): CliConfig {
  const src = parseYaml(text, file);
  const subject = (path: readonly (string | number)[]): string => {
    if (path.length === 0) return 'the file';
    if (path[0] === 'profiles' && path.length >= 2) {
      const key = path.slice(2).join('.');
      return key ? `'${key}' of profile '${path[1]}'` : `profile '${path[1]}'`;
    }
    return `'${path.join('.')}'`;
  };
  const plain = toPlain(src, src.doc.contents);
  if (plain === null) return { profiles: {} }; // empty, or comments only
  const parsed = validate(schema(), plain, { src, base: [], subject });
  const profiles = parsed.profiles ?? {};
  const checked: CliConfig['profiles'] = {};
  for (const [name, { server, token }] of Object.entries(profiles)) {
    for (const [key, value] of Object.entries({ server, token })) {
      if (value !== undefined) continue;
      const fix = `dstack config --server URL --token TOKEN --profile ${name} sets both`;
      throw new ConfigError(
        `profile '${name}' has no '${key}' (${fix})`,
        locate(src, ['profiles', name]),
        `profiles.${name}`,
      );
    }
    const problem = dstackServerUrlProblem(server!);
    if (problem !== undefined) {
      throw new ConfigError(
        `profile '${name}' has server '${redactUrl(server!)}': ${problem}`,
        locate(src, ['profiles', name, 'server']),
        `profiles.${name}.server`,
      );
    }
    checked[name] = { server: server!, token: token! };
  }
  return { ...(parsed.current != null ? { current: parsed.current } : {}), profiles: checked };
}
