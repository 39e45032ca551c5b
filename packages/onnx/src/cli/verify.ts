// Export verification: the written ONNX model, run by onnxruntime-node, against the trained network in tfjs
// (test mode, batch norm and p_l as separate ops, nothing folded) on a fixed probe batch.
import * as ort from 'onnxruntime-node';
import type { Checkpoint, ModelMetadata, ResNetSpec } from '@depthfold/core';
import { checkpointLogits } from '@depthfold/train';
import { nhwcToNchw } from '../layout.js';

/** How closely the ONNX model reproduces the trained network. */
export interface Parity {
  images: number;
  /** Largest |logit_onnx - logit_tfjs| over the probe batch. */
  maxAbsDiff: number;
  /** Images whose top-1 class is the same in both. */
  top1Agree: number;
}

function argmax(row: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (row[offset + k]! > row[offset + best]!) best = k;
  return best;
}

/** Runs both networks on `probe` (normalised NHWC pixels) and compares their logits. */
export async function measureParity(modelBytes: Uint8Array, checkpoint: Checkpoint, metadata: ModelMetadata, probe: Float32Array): Promise<Parity> {
  const { height, width, channels } = metadata.input;
  const n = probe.length / (height * width * channels);
  const classes = metadata.labels.length;
  const expected = await checkpointLogits(checkpoint.info.architecture as ResNetSpec, checkpoint.params, metadata.schedule.survivalProbs, probe);

  const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['cpu'] });
  try {
    const nchw = nhwcToNchw({ shape: [n, height, width, channels], data: probe });
    const feeds = { [metadata.input.name]: new ort.Tensor('float32', nchw.data, nchw.shape as number[]) };
    const output = await session.run(feeds);
    const got = output[metadata.output.name]!.data as Float32Array;
    let maxAbsDiff = 0;
    let top1Agree = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < classes; k++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i * classes + k]! - expected[i * classes + k]!));
      if (argmax(got, i * classes, classes) === argmax(expected, i * classes, classes)) top1Agree++;
    }
    return { images: n, maxAbsDiff, top1Agree };
  } finally {
    await session.release();
  }
}
