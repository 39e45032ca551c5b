// The classifier over any platform's session: validate, normalise to NCHW, run, then softmax and top-k.
import type { ModelSession } from './backend.js';
import { InferInputError } from './errors.js';
import { softmax, topK } from './postprocess.js';
import { toNchwInput } from './preprocess.js';
import type { Classification, Classifier, ClassifierInfo, ClassifyOptions, Images, PixelOptions } from './classifier.js';
import { checkImages, checkLayout, checkTopK } from './validate.js';

/** A {@link Classifier} running one session. */
export class SessionClassifier implements Classifier {
  readonly info: ClassifierInfo;
  #session: ModelSession | undefined;
  // Releasing a session under a running inference frees native memory the run still uses; dispose waits for these.
  readonly #pending = new Set<Promise<unknown>>();

  constructor(session: ModelSession, info: ClassifierInfo) {
    this.#session = session;
    this.info = info;
  }

  async logits(images: Images, options: PixelOptions = {}): Promise<Float32Array[]> {
    const session = this.#live();
    const { input, labels, metadata, normalization } = this.info;
    const layout = checkLayout(options.layout);
    const batch = checkImages(images, input, layout);
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

  async classify(images: Images, options: ClassifyOptions = {}): Promise<Classification[]> {
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
