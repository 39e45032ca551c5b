// A TypeDoc plugin for `pnpm docs:api` (tools/typedoc.json): names each entry point's module after the package export
// it is the source of (`packages/core/src/node/index.ts` is `@depthfold/core/node`), as a user imports it, instead of
// its path (`core/src/node`). The names come from each package's `exports`, whose `types` file under dist/ is the
// compiled entry; an entry point that no export names stops the run, so the reference and the manifests cannot drift.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Converter, ReflectionKind } from 'typedoc';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The source file of every package export: `packages/<p>/src/<x>.ts` -> `<name>` or `<name>/<sub>`. */
export function exportedSources() {
  const names = new Map();
  for (const dir of readdirSync(join(ROOT, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'));
    for (const [path, target] of Object.entries(manifest.exports ?? {})) {
      const types = typeof target === 'object' ? target.types : undefined;
      if (typeof types !== 'string') continue;
      const source = types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
      names.set(join('packages', dir, source), path === '.' ? manifest.name : `${manifest.name}/${path.slice(2)}`);
    }
  }
  return names;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const names = exportedSources();
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const file = module.sources?.[0]?.fullFileName;
      const name = file && names.get(relative(ROOT, file));
      if (!name) throw new Error(`typedoc: ${file ?? module.name} is no package's export (package.json "exports")`);
      module.name = name;
    }
  });
}
