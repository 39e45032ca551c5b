// @depthfold/infer as a user gets it: `pnpm pack` core, onnx, images and infer (after the build `pnpm test` runs),
// install the four tarballs with npm into an empty project outside the workspace, where no hoisted node_modules can
// supply a dependency the manifests forgot, then classify real Fashion-MNIST test images there in Node and bundle a
// browser entry with esbuild. The packed labels must be the workspace's for the same images.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { load } from '@depthfold/infer';
import { requirement } from '@depthfold/testing';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const PACKED = ['core', 'onnx', 'images', 'infer'] as const;
const MODEL = join(ROOT, 'models', 'resnet20-fashion-mnist-v2.onnx');
const TEST_IMAGES = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
const IMAGE_COUNT = 16;
const IMAGE_BYTES = 28 * 28;
// npm's messages when it cannot reach the registry (and the cache lacks a package): a missing requirement, not a bug.
const OFFLINE = /E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH)|request to \S+ failed/;

const work = mkdtempSync(join(tmpdir(), 'depthfold-packed-'));
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');
after(() => rmSync(work, { recursive: true, force: true }));

/** A packed package: its tarball, the files in it, and the package.json it ships. */
interface Packed {
  tarball: string;
  files: string[];
  manifest: { name: string; version: string; exports?: unknown; types?: string } & Record<string, unknown>;
}

function run(command: string, args: string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

function succeeded(result: SpawnSyncReturns<string>, what: string): string {
  assert.ifError(result.error);
  assert.equal(result.status, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Every path string in an `exports` map (conditions nested at any depth). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap(exportTargets);
}

/** The first `count` images of a gzipped IDX3 file of 28x28 grey images, one after another (784 bytes each, HWC). */
function fashionMnistImages(path: string, count: number): Uint8Array {
  const idx = gunzipSync(readFileSync(path));
  const header = new DataView(idx.buffer, idx.byteOffset, 16);
  const fields = {
    magic: [header.getUint32(0), 0x803],
    rows: [header.getUint32(8), 28],
    columns: [header.getUint32(12), 28],
  };
  for (const [field, [received, expected]] of Object.entries(fields)) {
    if (received !== expected) throw new Error(`${path}: ${field}: expected ${expected}, received ${received}`);
  }
  if (header.getUint32(4) < count)
    throw new Error(`${path}: image count: expected at least ${count}, received ${header.getUint32(4)}`);
  return idx.slice(16, 16 + count * IMAGE_BYTES);
}

// What the packed Node entry classifies: the images file, through the shipped model, top 3 each; it also prints
// where `@depthfold/infer` resolved, to show the installed copy ran and not the workspace's.
const CLASSIFY_SCRIPT = `import { readFileSync } from 'node:fs';
import { load } from '@depthfold/infer';
const classifier = await load(process.env.MODEL, { device: 'cpu' });
const pixels = new Uint8Array(readFileSync(process.env.IMAGES));
const size = ${IMAGE_BYTES};
const images = Array.from({ length: pixels.length / size }, (_, i) => pixels.subarray(i * size, (i + 1) * size));
const results = await classifier.classify(images, { topK: 3 });
const resolved = import.meta.resolve('@depthfold/infer');
process.stdout.write(JSON.stringify({ resolved, provider: classifier.info.provider, results }));
await classifier.dispose();
`;

// A page's use of the package: load a model by URL and classify pixels, through the browser export condition.
const BROWSER_ENTRY = `import { load } from '@depthfold/infer';
export async function classifyOnPage(url, pixels) {
  const classifier = await load(url);
  const [result] = await classifier.classify(pixels);
  await classifier.dispose();
  return result.top[0].label;
}
`;

test('@depthfold/infer packed with core, onnx and images installs by npm outside the workspace and classifies', {
  timeout: 300_000,
}, async (t) => {
  const packed = new Map<string, Packed>();
  let installed = false;

  await t.test('pnpm pack writes tarballs with dist/, no sources, and real versions for workspace: ranges', () => {
    mkdirSync(tarballs);
    for (const name of PACKED) {
      const dir = join(ROOT, 'packages', name);
      // The packages are `"private": true`: publish refuses them, pack does not.
      const report = JSON.parse(
        succeeded(
          run('pnpm', ['pack', '--json', '--pack-destination', tarballs], dir),
          `pnpm pack in packages/${name}`,
        ),
      ) as { filename: string };
      const files = succeeded(run('tar', ['-tzf', report.filename], work), `listing ${report.filename}`)
        .split('\n')
        .filter(Boolean)
        .map((path) => path.replace(/^package\//, ''));
      const manifest = JSON.parse(
        succeeded(
          run('tar', ['-xzOf', report.filename, 'package/package.json'], work),
          `reading package.json from ${report.filename}`,
        ),
      );
      packed.set(manifest.name, { tarball: report.filename, files, manifest });

      assert.ok(
        files.some((f) => f.startsWith('dist/') && f.endsWith('.js')),
        `${manifest.name}: the tarball holds dist/*.js`,
      );
      assert.deepEqual(
        files.filter((f) => /^(src|test)\//.test(f)),
        [],
        `${manifest.name}: the tarball holds no src/ or test/`,
      );
      const targets = exportTargets(manifest.exports);
      if (manifest.types) targets.push(manifest.types);
      for (const target of targets) {
        assert.ok(
          files.includes(target.replace(/^\.\//, '')),
          `${manifest.name}: the export target ${target} is in the tarball`,
        );
      }
      assert.doesNotMatch(
        JSON.stringify(manifest),
        /workspace:/,
        `${manifest.name}: the packed package.json holds no workspace: range`,
      );
    }
    // Each workspace range became the version of the package that was packed beside it.
    for (const { manifest } of packed.values()) {
      for (const [dep, range] of Object.entries((manifest.dependencies ?? {}) as Record<string, string>)) {
        const sibling = packed.get(dep);
        if (sibling) assert.equal(range, sibling.manifest.version, `${manifest.name}: dependencies.${dep}`);
      }
    }
    assert.deepEqual(
      Object.keys(packed.get('@depthfold/infer')!.manifest.dependencies as object)
        .filter((d) => d.startsWith('@depthfold/'))
        .sort(),
      ['@depthfold/core', '@depthfold/images', '@depthfold/onnx'],
      'infer depends on the three packages packed with it',
    );
  });

  await t.test('npm installs the four tarballs into an empty project', (t: TestContext) => {
    const npm = run('npm', ['--version'], work);
    if (!requirement(t, npm.status === 0, `no npm on PATH (it comes with Node): ${npm.error?.message ?? npm.stderr}`))
      return;
    mkdirSync(project);
    succeeded(run('npm', ['init', '-y'], project), 'npm init');
    succeeded(run('npm', ['pkg', 'set', 'type=module'], project), 'npm pkg set type=module');
    // Outside the workspace means no node_modules above the project that Node's resolution could walk up to.
    for (let dir = dirname(project); dir !== dirname(dir); dir = dirname(dir)) {
      assert.ok(
        !existsSync(join(dir, 'node_modules')),
        `the project's ancestor ${dir} has a node_modules: set TMPDIR outside any package`,
      );
    }
    assert.ok(relative(ROOT, project).startsWith('..'), `the project ${project} is outside the workspace ${ROOT}`);
    // Scripts skipped: onnxruntime-node's would download CUDA binaries (offline it fails); the CPU provider is bundled.
    const args = [
      'install',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...[...packed.values()].map((p) => p.tarball),
    ];
    const result = run('npm', args, project, 240_000);
    const output = `${result.stdout}\n${result.stderr}`;
    if (
      !requirement(
        t,
        result.status === 0 || !OFFLINE.test(output),
        `npm cannot reach its registry and its cache lacks a package:\n${output}`,
      )
    )
      return;
    succeeded(result, 'npm install');
    for (const name of packed.keys()) {
      const manifest = JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8'));
      assert.equal(manifest.version, packed.get(name)!.manifest.version, `${name} is installed from its tarball`);
    }
    installed = true;
  });

  await t.test(
    'in Node, the installed package classifies Fashion-MNIST test images as the workspace does',
    async (t: TestContext) => {
      if (!requirement(t, installed, 'the npm install above did not complete')) return;
      if (!requirement(t, existsSync(TEST_IMAGES), `no ${TEST_IMAGES}: apt-get install dataset-fashion-mnist`)) return;
      const imagesFile = join(work, 'images.bin');
      const pixels = fashionMnistImages(TEST_IMAGES, IMAGE_COUNT);
      writeFileSync(imagesFile, pixels);
      writeFileSync(join(project, 'classify.mjs'), CLASSIFY_SCRIPT);
      const result = spawnSync(process.execPath, ['classify.mjs'], {
        cwd: project,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, MODEL, IMAGES: imagesFile },
      });
      const out = JSON.parse(succeeded(result, 'the packed classify script')) as {
        resolved: string;
        provider: string;
        results: { top: { label: string; index: number; probability: number }[] }[];
      };
      assert.ok(
        fileURLToPath(out.resolved).startsWith(join(project, 'node_modules', '@depthfold', 'infer')),
        `resolved the installed copy: ${out.resolved}`,
      );
      assert.equal(out.provider, 'cpu');
      assert.equal(out.results.length, IMAGE_COUNT);

      const classifier = await load(MODEL, { device: 'cpu' });
      try {
        const images = Array.from({ length: IMAGE_COUNT }, (_, i) =>
          pixels.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES),
        );
        const expected = await classifier.classify(images, { topK: 3 });
        assert.deepEqual(
          out.results.map((r) => r.top[0]!.label),
          expected.map((r) => r.top[0]!.label),
        );
        assert.deepEqual(
          out.results.map((r) => r.top.map((c) => c.index)),
          expected.map((r) => r.top.map((c) => c.index)),
        );
        out.results.forEach((r, i) =>
          r.top.forEach((c, k) =>
            assert.ok(
              Math.abs(c.probability - expected[i]!.top[k]!.probability) < 1e-6,
              `image ${i}, rank ${k}: probability ${c.probability} vs ${expected[i]!.top[k]!.probability}`,
            ),
          ),
        );
        // A classifier answering one class for everything would agree with itself: these images span classes.
        assert.ok(new Set(expected.map((r) => r.top[0]!.index)).size >= 5, 'the test images span several classes');
      } finally {
        await classifier.dispose();
      }
    },
  );

  await t.test(
    'a browser bundle of the installed package takes onnxruntime-web, not onnxruntime-node nor tfjs',
    async (t: TestContext) => {
      if (!requirement(t, installed, 'the npm install above did not complete')) return;
      writeFileSync(join(project, 'page.mjs'), BROWSER_ENTRY);
      const outdir = join(project, 'bundle');
      const result = await build({
        absWorkingDir: project,
        entryPoints: ['page.mjs'],
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'browser',
        // As README's bundler note says: ORT's .wasm stays a file beside the chunks instead of inlined.
        conditions: ['onnxruntime-web-use-extern-wasm'],
        outdir,
        metafile: true,
        logLevel: 'silent',
      });
      assert.deepEqual(result.errors, []);
      const inputs = Object.keys(result.metafile.inputs);
      assert.ok(
        inputs.includes('node_modules/@depthfold/infer/dist/web/index.js'),
        `the web entry was bundled: ${inputs.filter((i) => i.includes('@depthfold/infer')).join(', ')}`,
      );
      assert.deepEqual(
        inputs.filter((i) => i.includes('@depthfold/infer/dist/node/')),
        [],
        'not the Node entry',
      );
      assert.ok(
        inputs.some((i) => i.startsWith('node_modules/onnxruntime-web/')),
        'onnxruntime-web was bundled',
      );
      assert.deepEqual(
        inputs.filter((i) => /onnxruntime-node|@tensorflow/.test(i)),
        [],
      );
      const written = readdirSync(outdir).filter((f) => f.endsWith('.js'));
      assert.ok(written.includes('page.js'), `the bundle was written: ${written.join(', ')}`);
      for (const file of written)
        assert.doesNotMatch(
          readFileSync(join(outdir, file), 'utf8'),
          /onnxruntime-node|@tensorflow/,
          `${file} names neither onnxruntime-node nor @tensorflow`,
        );
    },
  );
});
