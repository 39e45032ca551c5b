// Type tests of the public API, checked by `tsc --noEmit` (never run): each @ts-expect-error line must stay an error.
import { load, type Classification, type Classifier, type ConcreteDevice, type Device } from '../src/index.js';

export async function publicApi(bytes: Uint8Array): Promise<void> {
  const c: Classifier = await load(bytes, { device: 'auto' });
  await load('model.onnx');
  const results: Classification[] = await c.classify([new Uint8Array(1), new Float32Array(1)], { topK: 2, layout: 'CHW' });
  const one: Classification[] = await c.classify(new Uint8Array(1));
  const logits: Float32Array[] = await c.logits(new Float32Array(1), { layout: 'HWC' });
  const device: ConcreteDevice = c.info.device;
  const requested: Device = 'wasm';
  void [results, one, logits, device, requested];

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
  await c.dispose();
}
