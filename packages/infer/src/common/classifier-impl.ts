// The classifier over any platform's session: validate, normalise to NCHW, run, then softmax and top-k.
import type { ModelSession } from './backend.js';
import { InferInputError } from './errors.js';
import { softmax, topK } from './postprocess.js';
import { toNchwInput } from './preprocess.js';
import type { Classification, Classifier, ClassifierInfo, ClassifyOptions, Images, PixelOptions, Pixels } from './classifier.js';
import type { RgbaImage } from './rgba-image.js';
import { checkImages, checkLayout, checkTopK } from './validate.js';

/** A {@link Classifier} running one session; takes RGBA images (ImageData) too where the platform says so. */
export class SessionClassifier implements Classifier<Pixels | RgbaImage> {
  readonly info: ClassifierInfo;
  #session: ModelSession | undefined;
  readonly #rgba: boolean;
  // Releasing a session under a running inference frees native memory the run still uses; dispose waits for these.
  readonly #pending = new Set<Promise<unknown>>();

  /** @param rgba - Whether images may be ImageData (the web entry); Node takes raw pixels only. */
  constructor(session: ModelSession, info: ClassifierInfo, rgba = false) {
    this.#session = session;
    this.info = info;
    this.#rgba = rgba;
  }

  async logits(images: Images<Pixels | RgbaImage>, options: PixelOptions = {}): Promise<Float32Array[]> {
    const session = this.#live();
    const { input, labels, metadata, normalization } = this.info;
    const layout = checkLayout(options.layout);
    const batch = checkImages(images, input, layout, this.#rgba);
    const data = toNchwInput(batch, input, normalization, layout);
    const run = session.run(metadata.input.name, { data, dims: [batch.length, input.channels, input.height, input.width] }, metadata.output.name);
    this.#pending.add(run);
    let output;
    try {
      output = await run;
    } finally {
      this.#pending.delete(run);
    }
    const classes = labels.length;
    const expected = [batch.length, classes];
    if (output.dims.length !== 2 || output.dims[0] !== expected[0] || output.dims[1] !== expected[1]) {
      throw new InferInputError(`output ${JSON.stringify(metadata.output.name)} dims`, `[${expected.join(', ')}] (batch, labels)`, `[${output.dims.join(', ')}]`, 'model');
    }
    return batch.map((_, n) => output.data.slice(n * classes, (n + 1) * classes));
  }

  async classify(images: Images<Pixels | RgbaImage>, options: ClassifyOptions = {}): Promise<Classification[]> {
    const k = checkTopK(options.topK, this.info.labels.length);
    const logits = await this.logits(images, options);
    return logits.map((l) => ({ top: topK(softmax(l), this.info.labels, k) }));
  }

  async dispose(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await Promise.allSettled(this.#pending);
    await session?.release();
  }

  #live(): ModelSession {
    if (!this.#session) throw new Error('this classifier was disposed; load the model again');
    return this.#session;
  }
}
