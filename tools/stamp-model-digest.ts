// Adds the SHA-256 of graph and weights to models exported before `pnpm export` wrote it, so that @depthfold/infer
// loads them with its integrity check on. Only metadata_props change; the tool checks that before it writes.
//   node --import tsx tools/stamp-model-digest.ts models/resnet20-fashion-mnist-v1.onnx [more.onnx ...] [--force]
// --force replaces a stored digest that does not match: for a model edited on purpose, never for one of unknown
// history (stamping blesses whatever changed it).
import { parseArgs } from 'node:util';
import { stampModelFile } from '@depthfold/onnx/node';

const { values, positionals } = parseArgs({
  options: { force: { type: 'boolean', default: false } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  console.error('usage: node --import tsx tools/stamp-model-digest.ts MODEL.onnx [MODEL.onnx ...] [--force]');
  process.exit(2);
}
let failed = false;
for (const path of positionals) {
  try {
    const { action, sha256 } = await stampModelFile(path, { force: values.force });
    console.log(
      `${path}: ${action === 'stamped' ? 'digest written' : 'already carries its digest'} (sha256 ${sha256})`,
    );
  } catch (error) {
    failed = true;
    console.error(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
process.exit(failed ? 1 : 0);
