// Parity of an exported model: the ONNX model, run by onnxruntime-node, against the trained network in tfjs (test
// mode, batch norm and p_l as separate ops, nothing folded) on the same images. `pnpm export` checks it on a probe
// batch before writing; model cards quote it over a whole test set.
import * as ort from 'onnxruntime-node';
import { type Checkpoint, type ModelMetadata, topologyOf } from '@depthfold/core';
import { checkpointLogits } from '@depthfold/train';
import { nhwcToNchw } from '@depthfold/onnx';

/** How closely the ONNX model reproduces the trained network. */
export interface Parity {
  images: number;
  /** Largest |logit_onnx - logit_tfjs| over the probe batch. */
  maxAbsDiff: number;
  /** Largest |logit_tfjs|: the scale of the logits, against which float32 rounding grows. */
  maxAbsLogit: number;
  /**
   * maxAbsDiff / max(1, maxAbsLogit): the difference relative to the logits' scale. A deep, wide net accumulates
   * float32 rounding over thousands of products per output, in proportion to the values it computes; a wrong fold
   * is off by the logits' own size.
   */
  relativeDiff: number;
  /** Images whose top-1 class is the same in both. */
  top1Agree: number;
}

function argmax(row: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (row[offset + k]! > row[offset + best]!) best = k;
  return best;
}

// Images per step: bounds the memory of the tfjs reference (activations of a whole test set would not fit).
const CHUNK = 500;

/**
 * Runs both networks on `images` (normalised NHWC pixels, any number, taken in chunks) and compares their logits.
 * @param onChunk - Told how many images are done after each chunk.
 */
export async function measureParity(
  modelBytes: Uint8Array,
  checkpoint: Checkpoint,
  metadata: ModelMetadata,
  images: Float32Array,
  onChunk?: (done: number, total: number) => void,
): Promise<Parity> {
  const { height, width, channels } = metadata.input;
  const size = height * width * channels;
  const n = images.length / size;
  const classes = metadata.labels.length;
  const topology = topologyOf(checkpoint.info.architecture);
  const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['cpu'] });
  let maxAbsDiff = 0;
  let maxAbsLogit = 0;
  let top1Agree = 0;
  try {
    for (let start = 0; start < n; start += CHUNK) {
      const rows = Math.min(CHUNK, n - start);
      const chunk = images.subarray(start * size, (start + rows) * size);
      const expected = await checkpointLogits(
        topology,
        checkpoint.params,
        checkpoint.info.schedule.survivalProbs,
        chunk,
      );
      const nchw = nhwcToNchw({ shape: [rows, height, width, channels], data: chunk });
      const output = await session.run({
        [metadata.input.name]: new ort.Tensor('float32', nchw.data, nchw.shape as number[]),
      });
      const got = output[metadata.output.name]!.data as Float32Array;
      for (let i = 0; i < rows; i++) {
        for (let k = 0; k < classes; k++) {
          maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i * classes + k]! - expected[i * classes + k]!));
          maxAbsLogit = Math.max(maxAbsLogit, Math.abs(expected[i * classes + k]!));
        }
        if (argmax(got, i * classes, classes) === argmax(expected, i * classes, classes)) top1Agree++;
      }
      onChunk?.(start + rows, n);
    }
    return { images: n, maxAbsDiff, maxAbsLogit, relativeDiff: maxAbsDiff / Math.max(1, maxAbsLogit), top1Agree };
  } finally {
    await session.release();
  }
}
