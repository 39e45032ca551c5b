// The images of BYTES inputs, decoded on a few worker threads shared by every model and protocol: a fixed number
// decode at once (the memory of a decode is the image's pixels, up to --max-image-pixels of them), a bounded number
// wait in one first-come queue, and the HTTP thread only copies bytes in and small inputs out. What fails before
// decoding (an empty row, bytes that are no image format) is found on this thread, for the whole request, before any
// row is decoded.
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Preprocessing } from '@depthfold/core';
import type { ImageDecodeFailure } from '@depthfold/images';
import { notAnImageReason, sniffFormat } from '@depthfold/images/node';
import { normalizePixelsInPlace } from '@depthfold/infer/node';
import { OverloadedError, shuttingDownError } from './errors.js';
import { type EncodedImages, ImageRowError } from './image-input.js';
import type { ModelSpec } from './model-spec.js';

/** A decode sent to a thread: the image's bytes (its own buffer, transferred) and how to make the input of them. */
export interface ImageJob {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly preprocessing: Preprocessing;
  readonly height: number;
  readonly width: number;
  readonly maxPixels: number;
}

/** A thread's answer: the input before normalisation (HWC uint8), why the image failed, or an error not the image's. */
export type ImageJobReply =
  | { readonly id: number; readonly pixels: Uint8Array }
  | { readonly id: number; readonly failure: ImageDecodeFailure; readonly reason: string }
  | { readonly id: number; readonly internal: string };

/** How many images are decoded at once, and how many may wait. */
export interface ImageDecoderOptions {
  /** Threads decoding at once (each decodes one image at a time); default the cores, at most 4. */
  readonly threads?: number;
  /** Images waiting for a thread, at most; a request whose images would pass it is refused with 503. Default 256. */
  readonly maxQueue?: number;
}

/** The defaults of {@link ImageDecoderOptions}. */
export const IMAGE_DECODER_DEFAULTS = Object.freeze({
  threads: Math.min(4, availableParallelism()),
  maxQueue: 256,
});

/** What the decoder has done since it started. */
export interface ImageDecoderStats {
  /** Images decoded into inputs. */
  readonly decoded: number;
  /** Images refused: not an image, corrupt, over the pixel limit, of the wrong size. */
  readonly refused: number;
  /** Images waiting for a thread now. */
  readonly queued: number;
  /** Threads started (they start on the first image, and stay). */
  readonly threads: number;
}

// The worker is a sibling module: image-worker.js in dist/, or image-worker.ts from source through tsx, which a
// worker must register itself (Node 20 does not carry the parent's `--import tsx` into it), as session-pool.ts does.
const FROM_SOURCE = extname(fileURLToPath(import.meta.url)) === '.ts';

function newWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(new URL('./image-worker.js', import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./image-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

/** The images of one request, decoding. */
interface Batch {
  readonly spec: ModelSpec;
  readonly images: EncodedImages;
  /** NCHW pixels (0..255) of every row, filled as rows come back. */
  readonly out: Float32Array;
  /** Rows not yet answered (running or queued). */
  pending: number;
  /** Failed rows; the lowest is reported. */
  readonly failures: ImageRowError[];
  internal: Error | undefined;
  readonly resolve: (pixels: Float32Array) => void;
  readonly reject: (error: unknown) => void;
}

interface Job {
  readonly batch: Batch;
  readonly row: number;
}

interface Thread {
  readonly worker: Worker;
  job: (Job & { id: number }) | undefined;
}

/** Decodes the images of BYTES inputs into the network's input, on its own threads. */
export class ImageDecoder {
  readonly options: Readonly<Required<ImageDecoderOptions>>;
  readonly #queue: Job[] = [];
  readonly #threads: Thread[] = [];
  #nextId = 0;
  #decoded = 0;
  #refused = 0;
  #closed = false;

  /** @throws RangeError for a thread count or queue bound that is not an integer >= 1. */
  constructor(options: ImageDecoderOptions = {}) {
    const resolved = { ...IMAGE_DECODER_DEFAULTS, ...options };
    for (const [field, value] of Object.entries(resolved)) {
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`image decoder ${field}: expected an integer >= 1, received ${value}`);
    }
    this.options = Object.freeze(resolved);
  }

  /** A copy of the counters. */
  get stats(): ImageDecoderStats {
    return {
      decoded: this.#decoded,
      refused: this.#refused,
      queued: this.#queue.length,
      threads: this.#threads.length,
    };
  }

  /**
   * Decodes one image per row with `spec`'s preprocessing and pixel limit, and normalises them as UINT8 pixels are:
   * the network's input for the rows, NCHW. Rows are decoded in order, several at once; once one fails, its
   * request's rows still queued are dropped, and the error of the lowest failed row is thrown (the same whatever the
   * timing: every row before a failed one has been decoded).
   * @throws ImageRowError (400) naming the row that is empty, not an image, corrupt, over the pixel limit or of the
   *   wrong size; OverloadedError (503) when the queue cannot take the rows; an Error (500) when a thread fails for a
   *   reason not the image's (sharp missing, a thread that died).
   */
  decode(images: EncodedImages, spec: ModelSpec): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(shuttingDownError());
    const { rows, fields } = images;
    // Refused here before any row is decoded: a request with one text file among its images costs no decoding.
    for (let row = 0; row < rows.length; row++) {
      const bytes = rows[row]!;
      const refusal =
        bytes.length === 0 ? 'empty (0 bytes)' : sniffFormat(bytes) === undefined ? notAnImageReason(bytes) : undefined;
      if (refusal !== undefined) {
        this.#refused++;
        return Promise.reject(
          new ImageRowError(fields[row]!, row, rows.length, bytes.length === 0 ? 'empty' : 'unsupported', refusal),
        );
      }
    }
    const { maxQueue } = this.options;
    if (this.#queue.length + rows.length > maxQueue)
      return Promise.reject(
        new OverloadedError(
          `server overloaded: ${this.#queue.length} images are waiting to be decoded and this request adds ${rows.length}, over ${maxQueue} (--max-image-queue); retry later`,
        ),
      );
    const { channels, height, width } = spec.input;
    return new Promise<Float32Array>((resolve, reject) => {
      const batch: Batch = {
        spec,
        images,
        out: new Float32Array(rows.length * channels * height * width),
        pending: rows.length,
        failures: [],
        internal: undefined,
        resolve,
        reject,
      };
      for (let row = 0; row < rows.length; row++) this.#queue.push({ batch, row });
      this.#pump();
    });
  }

  /** Drops the images queued or decoding (their requests get 503) and ends the threads. */
  async close(): Promise<void> {
    this.#closed = true;
    const queued = this.#queue.splice(0);
    const threads = this.#threads.splice(0);
    for (const job of queued) this.#settle(job.batch, { internal: shuttingDownError() });
    // Images being decoded are answered too: their threads' exit, below, is no longer heard.
    for (const thread of threads) {
      const job = thread.job;
      thread.job = undefined;
      if (job) this.#settle(job.batch, { internal: shuttingDownError() });
    }
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let thread = this.#threads.find((t) => t.job === undefined);
      if (!thread && this.#threads.length < this.options.threads) thread = this.#start();
      if (!thread) return;
      const job = this.#queue.shift()!;
      const id = this.#nextId++;
      thread.job = { ...job, id };
      const { spec } = job.batch;
      // A copy in a buffer of its own (one memcpy), transferred: posting a view would copy the whole request body it
      // points into.
      const bytes = new Uint8Array(job.batch.images.rows[job.row]!);
      const message: ImageJob = {
        id,
        bytes,
        preprocessing: spec.preprocessing,
        height: spec.input.height,
        width: spec.input.width,
        maxPixels: spec.maxImagePixels,
      };
      thread.worker.postMessage(message, [bytes.buffer]);
    }
  }

  #start(): Thread {
    const thread: Thread = { worker: newWorker(), job: undefined };
    // An idle thread does not keep the process alive; a server's listener does.
    thread.worker.unref();
    thread.worker.on('message', (reply: ImageJobReply) => {
      const job = thread.job;
      if (!job || job.id !== reply.id) return;
      thread.job = undefined;
      this.#answer(job, reply);
      this.#pump();
    });
    const lost = (why: string): void => {
      const index = this.#threads.indexOf(thread);
      if (index < 0) return;
      this.#threads.splice(index, 1);
      const job = thread.job;
      thread.job = undefined;
      if (job) this.#settle(job.batch, { internal: new Error(`an image decode thread stopped (${why})`) });
      // Its successor starts with the next image.
      this.#pump();
    };
    thread.worker.on('error', (error) => lost(error.message));
    thread.worker.on('exit', (code) => lost(`exit code ${code}`));
    this.#threads.push(thread);
    return thread;
  }

  #answer(job: Job, reply: ImageJobReply): void {
    const { batch, row } = job;
    if ('pixels' in reply) {
      this.#decoded++;
      // HWC from the thread to this row's planes.
      const { channels, height, width } = batch.spec.input;
      const plane = height * width;
      const base = row * plane * channels;
      const { pixels } = reply;
      for (let k = 0; k < plane; k++)
        for (let c = 0; c < channels; c++) batch.out[base + c * plane + k] = pixels[k * channels + c]!;
      this.#settle(batch, {});
    } else if ('failure' in reply) {
      this.#refused++;
      const { rows, fields } = batch.images;
      // @depthfold/images names its option; a client of the server sets the flag.
      const reason = reply.reason.replace('(limitInputPixels)', '(--max-image-pixels)');
      this.#settle(batch, { failure: new ImageRowError(fields[row]!, row, rows.length, reply.failure, reason) });
    } else {
      this.#settle(batch, { internal: new Error(`decoding ${batch.images.fields[row]}: ${reply.internal}`) });
    }
  }

  // One row of `batch` is answered; on a failure its queued rows are dropped. The batch settles with its last row.
  #settle(batch: Batch, outcome: { failure?: ImageRowError; internal?: Error }): void {
    if (outcome.failure) batch.failures.push(outcome.failure);
    if (outcome.internal) batch.internal ??= outcome.internal;
    batch.pending--;
    if (outcome.failure || outcome.internal) {
      const kept = this.#queue.filter((job) => job.batch !== batch);
      batch.pending -= this.#queue.length - kept.length;
      this.#queue.splice(0, this.#queue.length, ...kept);
    }
    if (batch.pending > 0) return;
    if (batch.internal) batch.reject(batch.internal);
    else if (batch.failures.length > 0) batch.reject(batch.failures.reduce((a, b) => (b.row < a.row ? b : a)));
    else batch.resolve(normalizePixelsInPlace(batch.out, batch.spec.input, batch.spec.normalization));
  }
}
