// Command-line flags from a zod object schema: --kebab-case flags (--no-x for booleans) and a --help text listing
// each with its default. The same conventions as `pnpm train` and `pnpm export`, without pulling in their package
// (it loads TensorFlow.js, which a server has no use for).
import { parseArgs } from 'node:util';
import { z } from 'zod';

interface PropertyInfo {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
}

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function properties(schema: z.ZodObject): Record<string, PropertyInfo> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, PropertyInfo> };
  return json.properties ?? {};
}

function kindOf(info: PropertyInfo): 'boolean' | 'number' | 'string' {
  const type = Array.isArray(info.type) ? info.type[0] : info.type;
  if (type === 'boolean') return 'boolean';
  if (type === 'number' || type === 'integer') return 'number';
  return 'string';
}

/** The --help text: usage, summary, then each flag with its values, description and default. */
export function helpText(command: string, summary: string, schema: z.ZodObject): string {
  const rows: [string, string][] = [];
  for (const [key, info] of Object.entries(properties(schema))) {
    const kind = kindOf(info);
    const value = info.enum ? info.enum.join('|') : kind === 'boolean' ? '' : kind.toUpperCase();
    const flag = kind === 'boolean' ? `--${kebab(key)}, --no-${kebab(key)}` : `--${kebab(key)} ${value}`;
    const dflt = info.default === undefined ? '' : ` (default: ${JSON.stringify(info.default)})`;
    rows.push([flag, `${info.description ?? ''}${dflt}`]);
  }
  rows.push(['--help', 'print this help']);
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return [`Usage: ${command} [options]`, '', summary, '', 'Options:', ...rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`)].join('\n');
}

/**
 * The raw option object from argv (numbers converted, not yet validated), or `'help'`.
 * @throws Error for an unknown flag or a number that does not parse, pointing at --help.
 */
export function parseCommandLine(argv: readonly string[], schema: z.ZodObject): Record<string, unknown> | 'help' {
  const props = properties(schema);
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  const keyOf = new Map<string, string>();
  for (const [key, info] of Object.entries(props)) {
    const boolean = kindOf(info) === 'boolean';
    options[kebab(key)] = { type: boolean ? 'boolean' : 'string' };
    keyOf.set(kebab(key), key);
    if (boolean) {
      options[`no-${kebab(key)}`] = { type: 'boolean' };
      keyOf.set(`no-${kebab(key)}`, key);
    }
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new Error(`${(error as Error).message}\nRun with --help for the list of options.`);
  }
  if (values.help) return 'help';
  const result: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(values)) {
    if (flag === 'help' || value === undefined) continue;
    const key = keyOf.get(flag)!;
    const kind = kindOf(props[key]!);
    if (kind === 'boolean') result[key] = flag.startsWith('no-') && flag !== kebab(key) ? !value : value;
    else if (kind === 'number') {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n)) throw new Error(`--${flag}: expected a number, received ${JSON.stringify(value)}`);
      result[key] = n;
    } else result[key] = value;
  }
  return result;
}
