// The classifier over any platform's session: check and preprocess the images, normalise to NCHW, run in chunks of at
// most MAX_RUN_BATCH images, refuse non-finite outputs, then softmax and top-k.
import type { ModelSession, TensorData } from './backend.js';
import { InferModelError } from './errors.js';
import { softmax, topK } from './postprocess.js';
import { checkBatch, type ImageReader, prepareImages } from './image-input.js';
import { toNchwInput } from './preprocess.js';
import {
  MAX_RUN_BATCH,
  type Classification,
  type Classifier,
  type ClassifierInfo,
  type ClassifyOptions,
  type Images,
  type PixelOptions,
  type Pixels,
} from './classifier.js';
import { checkLayout, checkTopK } from './validate.js';

/**
 * A {@link Classifier} running one session; takes what its platform's image reader decodes besides pixels and raw
 * images. Each entry narrows the image type to what its platform takes.
 */
export class SessionClassifier implements Classifier<unknown> {
  readonly info: ClassifierInfo;
  #session: ModelSession | undefined;
  readonly #reader: ImageReader | undefined;
  readonly #source: string;
  // Releasing a session under a running inference frees native memory the run still uses; dispose waits for these.
  readonly #pending = new Set<Promise<unknown>>();

  /**
   * @param reader - The platform's decoder of images other than pixels and raw images (paths, bytes, DOM images).
   * @param source - Names the model in errors (a path, URL or `(model bytes)`).
   */
  constructor(session: ModelSession, info: ClassifierInfo, reader?: ImageReader, source = '(model bytes)') {
    this.#session = session;
    this.info = info;
    this.#reader = reader;
    this.#source = source;
  }

  async preprocess(images: Images<unknown>, options: PixelOptions = {}): Promise<Pixels[]> {
    this.#live();
    return prepareImages(images, this.info, checkLayout(options.layout), this.#reader);
  }

  async logits(images: Images<unknown>, options: PixelOptions = {}): Promise<Float32Array[]> {
    this.#live();
    const { input, labels, normalization } = this.info;
    const layout = checkLayout(options.layout);
    // Every image is checked, decoded and preprocessed before the first call, so a bad image late in a large batch
    // costs no inference. A batch with nothing to decode runs in this tick: a dispose that follows waits for it; one
    // that comes while images decode makes this call throw, as a later call would.
    const checked = checkBatch(images, this.info, layout, this.#reader);
    const batch = checked.ready ?? (await checked.finish());
    const classes = labels.length;
    const rows: Float32Array[] = [];
    for (let start = 0; start < batch.length; start += MAX_RUN_BATCH) {
      const chunk = batch.slice(start, start + MAX_RUN_BATCH);
      const output = await this.#run(toNchwInput(chunk, input, normalization, layout), chunk.length);
      for (let n = 0; n < chunk.length; n++) {
        const row = output.data.slice(n * classes, (n + 1) * classes);
        const bad = row.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          throw new InferModelError(
            this.#source,
            `logits of images[${start + n}]`,
            `finite numbers (class ${bad}, ${JSON.stringify(labels[bad])}); the model's weights may be corrupt`,
            String(row[bad]),
          );
        }
        rows.push(row);
      }
    }
    return rows;
  }

  // One ONNX Runtime call on `count` images; the session is looked up per call, so dispose stops a chunked batch.
  async #run(data: Float32Array, count: number): Promise<TensorData> {
    const session = this.#live();
    const { input, labels, metadata } = this.info;
    const run = session.run(
      metadata.input.name,
      { data, dims: [count, input.channels, input.height, input.width] },
      metadata.output.name,
    );
    this.#pending.add(run);
    let output;
    try {
      output = await run;
    } finally {
      this.#pending.delete(run);
    }
    const expected = [count, labels.length];
    if (output.dims.length !== 2 || output.dims[0] !== expected[0] || output.dims[1] !== expected[1]) {
      throw new InferModelError(
        this.#source,
        `output ${JSON.stringify(metadata.output.name)} dims`,
        `[${expected.join(', ')}] (batch, labels)`,
        `[${output.dims.join(', ')}]`,
      );
    }
    return output;
  }

  async classify(images: Images<unknown>, options: ClassifyOptions = {}): Promise<Classification[]> {
    const k = checkTopK(options.topK, this.info.labels.length);
    const logits = await this.logits(images, options);
    // Finite logits give finite probabilities (the softmax subtracts the maximum); checked anyway, since a NaN
    // probability must never reach a caller.
    return logits.map((l, n) => {
      const probabilities = softmax(l);
      const bad = probabilities.findIndex((p) => !Number.isFinite(p));
      if (bad >= 0)
        throw new InferModelError(
          this.#source,
          `probabilities of images[${n}]`,
          `finite numbers (class ${bad})`,
          String(probabilities[bad]),
        );
      return { top: topK(probabilities, this.info.labels, k) };
    });
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
