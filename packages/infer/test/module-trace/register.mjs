// Preloaded with `node --import`: records every module the process loads into the file named by
// DEPTHFOLD_MODULE_TRACE, ESM through a resolve hook and CommonJS (what ESM-imported CJS packages require) from
// the require cache at exit. Plain JavaScript because the child node runs without tsx.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.DEPTHFOLD_MODULE_TRACE;
if (!out) throw new Error('DEPTHFOLD_MODULE_TRACE must name the trace file');
register('./loader.mjs', import.meta.url, { data: { out } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  appendFileSync(
    out,
    Object.keys(cache)
      .map((file) => `cjs ${file}\n`)
      .join(''),
  );
});
