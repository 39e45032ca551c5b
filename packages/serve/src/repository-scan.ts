// What a model repository folder holds, read fresh on every scan: Triton's layout (`<name>/config.pbtxt`,
// `<name>/<version>/model.onnx`, as `pnpm export --triton` writes it) and lone `<name>.onnx` files beside it (each a
// model of one version, 1). Nothing is loaded here; a scan only lists, and says what is wrong with an entry.
import type { Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_MODEL_FILENAME, parseModelConfig, type RepositoryModelConfig } from './model-config.js';
import { MODEL_NAME, MODEL_VERSION } from './model-spec.js';

/** One version of a model in the repository. */
export interface VersionSource {
  readonly version: string;
  /** The .onnx file. */
  readonly path: string;
  /** Its size and modification time, `size:mtime`, or why it cannot be read: what tells a changed file. */
  readonly fingerprint: string;
  readonly bytes: number;
}

/** One model of the repository as found on disk. */
export interface ModelSource {
  readonly name: string;
  /** `triton` for a folder with versions, `file` for a lone .onnx file. */
  readonly layout: 'triton' | 'file';
  /** The folder's config.pbtxt, read (absent for a lone file, or a folder without one). */
  readonly config?: RepositoryModelConfig;
  readonly configText?: string;
  /** Every numbered version found, highest first. */
  readonly versions: readonly VersionSource[];
  /** Why the model cannot be loaded as it stands (a config that does not parse, no version...). */
  readonly problem?: string;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const fingerprintOf = (s: Stats): string => `${s.size}:${s.mtimeMs}`;

async function versionOf(dir: string, version: string, file: string): Promise<VersionSource | undefined> {
  const path = join(dir, version, file);
  try {
    const s = await stat(path);
    return s.isFile() ? { version, path, fingerprint: fingerprintOf(s), bytes: s.size } : undefined;
  } catch {
    return undefined;
  }
}

async function tritonModel(root: string, name: string): Promise<ModelSource> {
  const dir = join(root, name);
  let configText: string | undefined;
  let config: RepositoryModelConfig | undefined;
  let problem: string | undefined;
  try {
    configText = await readFile(join(dir, 'config.pbtxt'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problem = `config.pbtxt: ${reasonOf(error)}`;
  }
  if (configText !== undefined) {
    try {
      config = parseModelConfig(configText);
    } catch (error) {
      problem = reasonOf(error);
    }
  }
  const file = config?.defaultModelFilename ?? DEFAULT_MODEL_FILENAME;
  const entries = await readdir(dir, { withFileTypes: true });
  // Triton's version folders are numbers; anything else in the folder (labels.txt, notes) is not a version.
  const numbered = entries.filter((e) => e.isDirectory() && /^\d+$/.test(e.name)).map((e) => e.name);
  const found = await Promise.all(numbered.map((v) => versionOf(dir, v, file)));
  const versions = found
    .filter((v): v is VersionSource => v !== undefined)
    .sort((a, b) => Number(b.version) - Number(a.version));
  if (!problem && versions.length === 0)
    problem = `no version folder holds ${file} (expected ${name}/<version>/${file}, e.g. ${name}/1/${file})`;
  return {
    name,
    layout: 'triton',
    ...(config ? { config } : {}),
    ...(configText === undefined ? {} : { configText }),
    versions,
    ...(problem ? { problem } : {}),
  };
}

/**
 * The models of `root`, sorted by name: its folders (Triton's layout) and its `.onnx` files. A name that would need
 * escaping in a URL, or that is both a folder and a file, is listed with its problem. Hidden entries are skipped.
 * @throws Error when `root` is not a readable folder.
 */
export async function scanRepository(root: string): Promise<ModelSource[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const models = new Map<string, ModelSource>();
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    let source: ModelSource | undefined;
    if (entry.isDirectory()) source = await tritonModel(root, entry.name);
    else if (entry.isFile() && /\.onnx$/i.test(entry.name)) {
      const path = join(root, entry.name);
      const s = await stat(path);
      source = {
        name: entry.name.replace(/\.onnx$/i, ''),
        layout: 'file',
        versions: [{ version: MODEL_VERSION, path, fingerprint: fingerprintOf(s), bytes: s.size }],
      };
    }
    if (!source) continue;
    if (!MODEL_NAME.test(source.name))
      source = {
        ...source,
        problem: `the name must be letters, digits, ".", "_" and "-", starting with a letter or digit`,
      };
    const twin = models.get(source.name);
    if (twin)
      source = {
        ...source,
        problem: `both a folder ${source.name}/ and a file ${source.name}.onnx; rename one (a name serves one model)`,
      };
    models.set(source.name, source);
  }
  return [...models.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What tells a changed model: its config's text and each version's file. */
export function fingerprintOfModel(source: ModelSource): string {
  return JSON.stringify([source.configText ?? '', source.versions.map((v) => [v.version, v.fingerprint])]);
}
