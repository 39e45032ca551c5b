// The documentation holds together: every relative link of the README, docs/*.md and the models' pages reaches a file
// of the repository, and a heading of it where the link names one (`#fragment`, as GitHub slugs headings); and the
// API reference (`pnpm docs:api`, tools/typedoc.json) documents every public entry of every package.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const pagesIn = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(dir, f));

/** The pages whose links are checked, relative to the root. */
const PAGES = ['README.md', ...pagesIn('docs'), ...pagesIn('models'), ...pagesIn('models/runs')];

/** Markdown without its fenced code blocks and inline code, where `](` is text, not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, each space a `-`. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings, repeats numbered as GitHub numbers them (`-1`, `-2`). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, text] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(text!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

test('every relative link of the documentation reaches a file, and a heading where it names one', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of PAGES) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    for (const [, target] of prose(text).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto: ...
      checked++;
      const [path = '', fragment] = target!.split('#', 2);
      const file = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURIComponent(path));
      const where = `${page}: ](${target})`;
      if (relative(ROOT, file).startsWith('..')) {
        broken.push(`${where} leaves the repository`);
      } else if (!existsSync(file)) {
        broken.push(`${where}: no ${relative(ROOT, file)}`);
      } else if (fragment !== undefined && file.endsWith('.md') && statSync(file).isFile()) {
        if (!anchors(readFileSync(file, 'utf8')).has(fragment))
          broken.push(`${where}: ${relative(ROOT, file)} has no heading #${fragment}`);
      }
    }
  }
  assert.ok(checked > 50, `only ${checked} links found: the link pattern no longer matches the pages`);
  assert.deepEqual(broken, []);
});

test("the slugs are GitHub's for the headings these pages use", () => {
  assert.equal(slug('Precision: `--precision fp32|bf16|auto`'), 'precision---precision-fp32bf16auto');
  assert.equal(slug('`pnpm bench:serve`'), 'pnpm-benchserve');
  assert.equal(slug('Many models: a repository'), 'many-models-a-repository');
  assert.deepEqual([...anchors('# A\n## B\n```\n# not a heading\n```\n## B\n')], ['a', 'b', 'b-1']);
});

/** `packages/<p>/src/<x>.ts` of every `exports` entry of every package, with its import name. */
function exportedSources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of readdirSync(join(ROOT, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as {
      name: string;
      exports?: Record<string, { types?: unknown }>;
    };
    for (const [path, target] of Object.entries(manifest.exports ?? {})) {
      if (typeof target.types !== 'string') continue;
      const source = target.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
      out.set(join('packages', dir, source), path === '.' ? manifest.name : `${manifest.name}/${path.slice(2)}`);
    }
  }
  return out;
}

// The root of @depthfold/infer is its Node entry (`export * from './node/index.js'`): one module, documented once.
const SAME_MODULE = new Set(['@depthfold/infer/node']);

test("the API reference's entry points are every package's public entries", () => {
  const config = readFileSync(join(ROOT, 'tools', 'typedoc.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const { entryPoints } = JSON.parse(config) as { entryPoints: string[] };
  const documented = new Set(entryPoints.map((e) => relative(ROOT, resolve(ROOT, 'tools', e))));
  const exported = exportedSources();
  for (const file of documented) {
    assert.ok(exported.has(file), `tools/typedoc.json documents ${file}, which no package exports`);
  }
  for (const [file, name] of exported) {
    if (SAME_MODULE.has(name)) continue;
    assert.ok(documented.has(file), `${name} (${file}) is not among tools/typedoc.json's entry points`);
  }
  assert.ok(existsSync(join(ROOT, 'packages', 'infer', 'src', 'index.ts')));
  assert.match(
    readFileSync(join(ROOT, 'packages', 'infer', 'src', 'index.ts'), 'utf8'),
    /^export \* from '\.\/node\/index\.js';$/m,
    "@depthfold/infer's root re-exports its Node entry, so @depthfold/infer/node needs no page of its own",
  );
});
