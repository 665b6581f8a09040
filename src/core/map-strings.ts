/** Every string in a nested record (a provider's parameters), mapped, with its field's path (`args.0`, `env.KEY`). */
export function mapStrings(
  record: Record<string, unknown>,
  map: (text: string, field: string) => string,
  prefix = '',
): Record<string, unknown> {
  const walk = (value: unknown, field: string): unknown => {
    if (typeof value === 'string') return map(value, field);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${field}.${i}`));
    if (value && typeof value === 'object') return mapStrings(value as Record<string, unknown>, map, `${field}.`);
    return value;
  };
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, walk(v, `${prefix}${k}`)]));
}
