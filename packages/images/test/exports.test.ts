// The package as its users import it: the built entries by name (the `exports` map itself), the public API pinned,
// and the main entry free of Node APIs and of sharp (it bundles for browsers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';

const packageDir = new URL('..', import.meta.url).pathname;

const MAIN = [
  'IMAGE_BYTES',
  'ImageDecodeError',
  'ImageFolderError',
  'checkRawImage',
  'checkSize',
  'cropImage',
  'flattenSample',
  'greyOf',
  'oneLine',
  'preprocessImage',
  'randomResizedCrop',
  'randomResizedCropRect',
  'resizeBilinear',
  'resizeGeometry',
  'roundHalfEven',
  'to8Bit',
  'toColour',
];
const NODE_ONLY = [
  'DATASET_SPLITS',
  'DEFAULT_LIMIT_INPUT_PIXELS',
  'DecodeCache',
  'IMAGE_EXTENSIONS',
  'IMAGE_FORMATS',
  'ImageLoader',
  'SPLIT_FOLDERS',
  'datasetChanges',
  'datasetDescriptionSchema',
  'decodeCount',
  'decodeImage',
  'defaultDecodeThreads',
  'filesOf',
  'notAnImageReason',
  'readDatasetDescription',
  'scanImageFolder',
  'sniffFormat',
  'splitImageFolder',
  'writeDatasetDescription',
];

test('the built entries import by name and export exactly the public API', () => {
  const script = `import * as main from '@depthfold/images'; import * as node from '@depthfold/images/node';
console.log(JSON.stringify({ main: Object.keys(main).sort(), node: Object.keys(node).sort() }));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: packageDir,
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `${result.stderr} (build first: pnpm build)`);
  const { main, node } = JSON.parse(result.stdout) as { main: string[]; node: string[] };
  assert.deepEqual(main, [...MAIN].sort());
  assert.deepEqual(node, [...MAIN, ...NODE_ONLY].sort());
});

test('the main entry bundles for browsers: no Node API, no sharp', async () => {
  const result = await build({
    entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  assert.doesNotMatch(code, /from ["']node:|require\(["']|["']sharp["']/);
  // The bundle runs without Node: preprocess a 2x2 grey image in a bare module.
  const mod = (await import(`data:text/javascript,${encodeURIComponent(code)}`)) as typeof import('../src/index.js');
  const out = mod.preprocessImage(
    { width: 2, height: 2, channels: 1, data: Uint8Array.from([0, 100, 200, 255]) },
    { resize: 'stretch', interpolation: 'bilinear', cropFraction: 1, colour: 'grey', background: [0, 0, 0] },
    { height: 1, width: 1 },
  );
  assert.deepEqual([...out.data], [139]);
});
