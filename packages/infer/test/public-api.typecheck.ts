// Type tests of the public API, checked by `tsc --noEmit` (never run): each @ts-expect-error line must stay an error.
import {
  InferIntegrityError,
  type InferModelError,
  load,
  MAX_RUN_BATCH,
  type Classification,
  type Classifier,
  type ConcreteDevice,
  type Device,
} from '../src/index.js';
import { load as loadWeb, type Classifier as WebClassifier, type WebImage } from '../src/web/index.js';

export async function publicApi(bytes: Uint8Array): Promise<void> {
  const c: Classifier = await load(bytes, { device: 'auto' });
  await load('model.onnx');
  const results: Classification[] = await c.classify([new Uint8Array(1), new Float32Array(1)], {
    topK: 2,
    layout: 'CHW',
  });
  const one: Classification[] = await c.classify(new Uint8Array(1));
  const logits: Float32Array[] = await c.logits(new Float32Array(1), { layout: 'HWC' });
  const device: ConcreteDevice = c.info.device;
  const requested: Device = 'wasm';
  void [results, one, logits, device, requested];

  await load(bytes, { device: 'cpu', verifyIntegrity: false });
  const modelError: InferModelError = new InferIntegrityError(
    'm.onnx',
    'metadata_props.integrity',
    'a digest',
    undefined,
  );
  const chunk: number = MAX_RUN_BATCH;
  void [modelError, chunk];
  // @ts-expect-error verifyIntegrity is a boolean
  await load(bytes, { verifyIntegrity: 'no' });
  // @ts-expect-error only the devices of the table
  await load(bytes, { device: 'gpu' });
  // @ts-expect-error a model is a path or bytes
  await load(new ArrayBuffer(8));
  // @ts-expect-error pixels are Uint8Array or Float32Array
  await c.classify(new Int32Array(1));
  // @ts-expect-error layouts are HWC or CHW
  await c.logits(new Uint8Array(1), { layout: 'NHWC' });
  // @ts-expect-error topK is a number
  await c.classify(new Uint8Array(1), { topK: '3' });
  // @ts-expect-error info is read-only
  c.info.labels[0] = 'x';
  // @ts-expect-error info.device never is auto
  const auto: 'auto' = c.info.device;
  void auto;
  const threads: number | undefined = c.info.wasmThreads;
  void threads;
  // @ts-expect-error Node takes raw pixels, not ImageData
  await c.classify(new ImageData(28, 28));
  await c.dispose();
}

export async function webApi(bytes: Uint8Array, image: ImageData): Promise<void> {
  const w: WebClassifier = await loadWeb('models/model.onnx', { device: 'webgpu' });
  await loadWeb(new URL('https://example.org/model.onnx'));
  await loadWeb(bytes, { device: 'wasm', verifyIntegrity: false });
  const mixed: WebImage[] = [image, new Uint8Array(1), { data: new Uint8ClampedArray(4), width: 1, height: 1 }];
  const results: Classification[] = await w.classify(mixed, { topK: 1 });
  await w.logits(image, { layout: 'CHW' });
  void results;
  // @ts-expect-error a model is a URL or bytes
  await loadWeb(new ArrayBuffer(8));
  // @ts-expect-error ImageData holds RGBA bytes in a Uint8ClampedArray
  await w.classify({ data: new Uint8Array(4), width: 1, height: 1 });
  await w.dispose();
}
