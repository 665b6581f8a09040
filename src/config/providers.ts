/**
 * `.dstack/providers.yaml`: custom providers, each a program (`image` + `commands`) that
 * makes a workflow's job specs (providers/custom/ runs it). Read with the project, so that its
 * shape is checked before any provider runs.
 */
import type { Node } from 'yaml';
import { ConfigError } from '../core/errors.js';
import type { ProviderDefinition } from '../core/workflow.js';
import { validate } from './issues.js';
import {
  expectTopLevel,
  isScalar,
  locate,
  parseYaml,
  resolveAlias,
  scalarText,
  toPlain,
  type Path,
} from './yaml-source.js';
import { lazy, zod } from './zod-lib.js';
import { IMAGE_REFERENCE_EXPECTED, isImageReference } from '../core/image-reference.js';

export const PROVIDERS_FILE = '.dstack/providers.yaml';

const providers = lazy(() => {
  const z = zod();
  // Strict, as workflows are: a misspelt `comands:` was kept as a key of the provider's own,
  // and the provider, run with no commands, "wrote no jobs".
  const definition = z.strictObject(
    {
      name: z.string(),
      image: z.string().refine(isImageReference, { error: IMAGE_REFERENCE_EXPECTED }).optional(),
      commands: z.array(z.string(), { error: 'a list of strings' }).nullish(),
    },
    { error: "a mapping with a 'name'" },
  );
  return z.array(definition, { error: 'a list of providers (- name: ...)' }).nullable();
});

/** Parse and validate the text of a providers file. Throws a ConfigError at the first problem. */
export function parseProviders(text: string, file: string = PROVIDERS_FILE): ProviderDefinition[] {
  const src = parseYaml(text, file);
  const root = src.doc.contents === null ? null : resolveAlias(src, src.doc.contents);
  if (root === null || (isScalar(root) && scalarText(root) === null)) return [];
  expectTopLevel(src, root, 'providers');
  const base: Path = ['providers'];
  const plain = toPlain(src, root.items[0]?.value as Node | null);
  const subject = (path: Path): string => {
    if (path.length === 0) return "'providers'";
    const item = Array.isArray(plain) ? plain[Number(path[0])] : undefined;
    const name = item && typeof item === 'object' && !Array.isArray(item) ? item['name'] : undefined;
    const which = typeof name === 'string' ? `provider '${name}'` : `provider #${Number(path[0]) + 1}`;
    return path.length === 1 ? which : `'${path.slice(1).join('.')}' of ${which}`;
  };
  const parsed = validate(providers(), plain, { src, base, subject });
  const seen = new Map<string, number>();
  return (parsed ?? []).map((item, i) => {
    const location = locate(src, [...base, i]);
    const first = seen.get(item.name);
    if (first !== undefined) {
      throw new ConfigError(
        `duplicate provider name '${item.name}': already defined at line ${first}`,
        locate(src, [...base, i, 'name']),
        'name',
      );
    }
    seen.set(item.name, location.line ?? 0);
    const result: ProviderDefinition = { name: item.name, commands: item.commands ?? [], location };
    if (item.image !== undefined) result.image = item.image;
    return result;
  });
}
