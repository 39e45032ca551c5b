// Builds the demo page. The model is the shipped SHIPPED_MODEL of @depthfold/core (DEPTHFOLD_DEMO_MODEL names
// another), served in dev and copied into dist/models/ by the build, so git holds one copy of it. Dev and preview
// servers send COOP/COEP so that the page is cross-origin isolated and ONNX Runtime's WebAssembly gets threads.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { SHIPPED_MODEL } from '@depthfold/core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const model = resolve(repo, process.env.DEPTHFOLD_DEMO_MODEL ?? SHIPPED_MODEL);
// onnxruntime-web is @depthfold/infer's dependency, so it is found from there.
const ortDist = dirname(createRequire(resolve(repo, 'packages/infer/package.json')).resolve('onnxruntime-web/wasm'));
// The Emscripten runtimes of ort.wasm.min.mjs (WebAssembly) and ort.webgpu.min.mjs (WebGPU, asyncify).
const ORT_RUNTIME_FILES = [
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Serves `source` at `models/<name>` in dev, emits it there in the build, and tells the page the URL. A missing
 * model is a warning, not an error: `pnpm train` and `pnpm export` build every package (this one too) before the
 * model they make exists, and the page itself says that its model did not load.
 */
function modelFile(source: string): Plugin {
  const url = `models/${basename(source)}`;
  const missing = `the demo's model ${source} does not exist: it is committed in git (models/), or set DEPTHFOLD_DEMO_MODEL to a .onnx file from \`pnpm export\``;
  return {
    name: 'depthfold-model-file',
    config: () => ({ define: { __DEPTHFOLD_MODEL_URL__: JSON.stringify(url) } }),
    configureServer(server) {
      server.middlewares.use(`/${url}`, (_req, res) => {
        if (!existsSync(source)) {
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end(missing);
          return;
        }
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(readFileSync(source));
      });
    },
    generateBundle() {
      if (existsSync(source)) this.emitFile({ type: 'asset', fileName: url, source: readFileSync(source) });
      else this.warn(missing);
    },
  };
}

/**
 * Copies ONNX Runtime's Emscripten runtimes, unbundled and unrenamed, beside the chunks of ORT's scripts, where
 * those look for them. Bundled into a chunk (ORT's `*.bundle.min.mjs`), a runtime would start its WebAssembly
 * threads from that chunk, and a chunk imports the page's entry, which cannot run in a worker.
 */
function ortRuntimeFiles(): Plugin {
  return {
    name: 'depthfold-ort-runtime-files',
    apply: 'build',
    generateBundle() {
      for (const name of ORT_RUNTIME_FILES)
        this.emitFile({ type: 'asset', fileName: `assets/${name}`, source: readFileSync(join(ortDist, name)) });
    },
  };
}

export default defineConfig({
  // Relative URLs: the built page works from any path, and from the tests' static server.
  base: './',
  plugins: [modelFile(model), ortRuntimeFiles()],
  // ort.wasm.min.mjs and ort.webgpu.min.mjs (not their *.bundle.min.mjs, which inline the runtime: see above).
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  // The dependency optimiser would move onnxruntime-web away from the runtime files it locates with import.meta.url.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
  build: { chunkSizeWarningLimit: 1024 },
});
