/**
 * The server config file (`dstack server --config FILE`): YAML whose `backends:` list says
 * which backends the server runs besides its runners. Errors name the file, line and column.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { decodeConfigText } from '../../config/config-text.js';
import { ConfigError } from '../../core/errors.js';
import { locate, locateKey, parseYaml, toPlain } from '../../config/yaml-source.js';
import { slurmEntry, type SlurmEntry } from './slurm/options.js';

const serverConfig = z
  .object({
    backends: z
      .array(z.discriminatedUnion('type', [slurmEntry], { error: "unknown backend type: the one backend is 'slurm'" }))
      .max(1, 'one Slurm backend per server')
      .optional(),
  })
  .strict();

export interface ServerConfig {
  backends: SlurmEntry[];
}

export async function readServerConfig(file: string): Promise<ServerConfig> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new ConfigError(`cannot read the server config: ${(e as Error).message}`, { file });
  }
  // As the other config files: a byte that is not UTF-8 is refused at its line, never replaced.
  const src = parseYaml(decodeConfigText(bytes, file), file);
  const plain = toPlain(src, src.doc.contents) ?? {};
  const parsed = serverConfig.safeParse(plain);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    const field = path.join('.') || '(top)';
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      throw new ConfigError(`${field}: unknown key '${key}'`, locateKey(src, [...path, key]), field);
    }
    throw new ConfigError(`${field}: ${issue.message}`, locate(src, path), field);
  }
  return { backends: parsed.data.backends ?? [] };
}
