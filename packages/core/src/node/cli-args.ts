// Command-line options from a zod object schema: --kebab-case flags, an optional --config JSON file, and a
// --help text listing every option with its default. Shared by the depthfold CLIs.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** A JSON-schema property as zod renders it (only what help and parsing need). */
interface PropertyInfo {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function properties(schema: z.ZodObject): Record<string, PropertyInfo> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, PropertyInfo>;
  };
  return json.properties ?? {};
}

function kindOf(info: PropertyInfo): 'boolean' | 'number' | 'string' {
  const type = Array.isArray(info.type) ? info.type[0] : info.type;
  if (type === 'boolean') return 'boolean';
  if (type === 'number' || type === 'integer') return 'number';
  return 'string';
}

/** The --help text: usage, then each option with its values, description and default. */
export function helpText(command: string, summary: string, schema: z.ZodObject): string {
  const lines = [`Usage: ${command} [options]`, '', summary, '', 'Options:'];
  const rows: [string, string][] = [['--config FILE', 'read options from a JSON file (flags override it)']];
  for (const [key, info] of Object.entries(properties(schema))) {
    const kind = kindOf(info);
    const value = info.enum ? info.enum.join('|') : kind === 'boolean' ? '' : kind.toUpperCase();
    const flag = kind === 'boolean' ? `--${kebab(key)}, --no-${kebab(key)}` : `--${kebab(key)} ${value}`;
    const dflt = info.default === undefined ? '' : ` (default: ${JSON.stringify(info.default)})`;
    rows.push([flag, `${info.description ?? ''}${dflt}`]);
  }
  rows.push(['--help', 'print this help']);
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return lines.concat(rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`)).join('\n');
}

/**
 * The flags that reproduce `values` with {@link parseCommandLine}: one per option that differs from its default,
 * in the schema's order, skipping the keys in `omit` (e.g. `resume`).
 */
export function commandLineOf(
  schema: z.ZodObject,
  values: Readonly<Record<string, unknown>>,
  omit: readonly string[] = [],
): string[] {
  const flags: string[] = [];
  for (const [key, info] of Object.entries(properties(schema))) {
    const value = values[key];
    if (omit.includes(key) || value === undefined || JSON.stringify(value) === JSON.stringify(info.default)) continue;
    if (kindOf(info) === 'boolean') flags.push(value ? `--${kebab(key)}` : `--no-${kebab(key)}`);
    else flags.push(`--${kebab(key)}`, String(value));
  }
  return flags;
}

/** The raw option object from argv (before validation), or `'help'` when --help was given. */
export function parseCommandLine(argv: readonly string[], schema: z.ZodObject): Record<string, unknown> | 'help' {
  const props = properties(schema);
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    config: { type: 'string' },
    help: { type: 'boolean' },
  };
  const keyOf = new Map<string, string>();
  for (const [key, info] of Object.entries(props)) {
    const flag = kebab(key);
    keyOf.set(flag, key);
    options[flag] = { type: kindOf(info) === 'boolean' ? 'boolean' : 'string' };
    if (kindOf(info) === 'boolean') {
      options[`no-${flag}`] = { type: 'boolean' };
      keyOf.set(`no-${flag}`, key);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new Error(`${(error as Error).message}\nRun with --help for the list of options.`);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  let result: Record<string, unknown> = {};
  if (typeof values.config === 'string') {
    try {
      result = JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`--config ${values.config}: expected a readable JSON file, received ${(error as Error).message}`);
    }
  }
  for (const [flag, value] of Object.entries(values)) {
    if (flag === 'config' || flag === 'help' || value === undefined) continue;
    const key = keyOf.get(flag)!;
    const kind = kindOf(props[key]!);
    if (kind === 'boolean') result[key] = flag === `no-${kebab(key)}` ? !value : value;
    else if (kind === 'number') {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n))
        throw new Error(`--${flag}: expected a number, received ${JSON.stringify(value)}`);
      result[key] = n;
    } else result[key] = value;
  }
  return result;
}
