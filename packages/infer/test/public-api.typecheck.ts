// Type tests of the public API, checked by `tsc --noEmit` (never run): each @ts-expect-error line must stay an error.
import {
  InferImageError,
  type InferInputError,
  InferIntegrityError,
  type InferModelError,
  load,
  MAX_RUN_BATCH,
  type Classification,
  type Classifier,
  type ConcreteDevice,
  type Device,
  type EncodedImage,
  type ImageDecodeFailure,
  type ImageInput,
  type NodeImage,
  type Pixels,
  type Preprocessing,
  type RawImage,
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

export async function imagesApi(c: Classifier, bytes: Buffer, raw: RawImage): Promise<void> {
  // Node: paths, encoded bytes marked as such, raw images of any size, and pixels, alone or mixed in a batch.
  const encoded: EncodedImage = { encoded: bytes, name: 'cat.jpg' };
  const batch: NodeImage[] = ['cat.jpg', encoded, { encoded: new Uint8Array(8) }, raw, new Uint8Array(1)];
  const results: Classification[] = await c.classify(batch, { topK: 1 });
  await c.classify('cat.jpg');
  await c.logits({ width: 640, height: 480, channels: 3, data: new Uint8Array(640 * 480 * 3) });
  await c.logits({ width: 2, height: 1, channels: 2, data: new Uint16Array(4) }, { layout: 'CHW' });
  const seen: Pixels[] = await c.preprocess(encoded, { layout: 'HWC' });
  const preprocessing: Preprocessing = c.info.preprocessing;
  const common: ImageInput[] = [raw, encoded, new Float32Array(1)];
  await c.classify(common);
  void [results, seen, preprocessing];
  const error: InferInputError = new InferImageError(2, 'cat.jpg', 'corrupt JPEG', 'corrupt');
  const failure: ImageDecodeFailure = (error as InferImageError).failure;
  const index: number = (error as InferImageError).index;
  void [failure, index];
  // @ts-expect-error encoded bytes are a Uint8Array, not a path
  await c.classify({ encoded: 'cat.jpg' });
  // @ts-expect-error encoded bytes are a Uint8Array, not an ArrayBuffer
  await c.classify({ encoded: new ArrayBuffer(8) });
  // @ts-expect-error a raw image says how many channels it has
  await c.classify({ width: 2, height: 2, data: new Uint8Array(4) });
  // @ts-expect-error 1 to 4 channels
  await c.classify({ width: 1, height: 1, channels: 5, data: new Uint8Array(5) });
  // @ts-expect-error samples are 8 or 16 bits
  await c.classify({ width: 1, height: 1, channels: 1, data: new Float32Array(1) });
  // @ts-expect-error Node takes no Blob (read the file, or pass its path)
  await c.classify(new Blob([bytes]));
  // @ts-expect-error preprocess takes no topK
  await c.preprocess('cat.jpg', { topK: 1 });
  // @ts-expect-error the preprocessing is the model's, read-only
  c.info.preprocessing.resize = 'stretch';
}

export async function webImagesApi(
  w: WebClassifier,
  file: File,
  img: HTMLImageElement,
  bitmap: ImageBitmap,
  canvas: HTMLCanvasElement,
  offscreen: OffscreenCanvas,
): Promise<void> {
  // The web: what a page has at hand, of any size, plus the common inputs.
  const batch: WebImage[] = [file, new Blob([]), img, bitmap, canvas, offscreen, new ImageData(640, 480)];
  await w.classify(batch);
  await w.classify({ encoded: new Uint8Array(8), name: 'cat.png' });
  await w.logits({ width: 3, height: 3, channels: 1, data: new Uint8Array(9) });
  const seen: Pixels[] = await w.preprocess(file);
  void seen;
  // @ts-expect-error the web takes no paths (fetch the file and pass the Blob, or an image element)
  await w.classify('cat.jpg');
  // @ts-expect-error a video frame is not an image here
  await w.classify(document.createElement('video'));
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
