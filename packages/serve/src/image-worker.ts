// A thread that decodes the images of BYTES inputs: sharp (libvips) decodes, then @depthfold/images' preprocessImage
// (the one resize, as training, Node and browsers run it) makes the model's input before normalisation. Both run
// here, not on the HTTP thread: the resize of a 12-megapixel photo is ~0.5 s of JavaScript. One job at a time; the
// pool (image-decoder.ts) decides how many threads.
import { parentPort } from 'node:worker_threads';
import { decodeImage, ImageDecodeError, preprocessImage } from '@depthfold/images/node';
import type { ImageJob, ImageJobReply } from './image-decoder.js';

const port = parentPort;
if (!port) throw new Error('image-worker.ts runs as a worker thread of @depthfold/serve');

// libvips would otherwise run each decode on as many threads as there are cores and keep recent images in its
// operation cache: the pool's thread count is the bound on decoding, and no image is decoded twice. sharp is
// optional; without it, each decode fails with @depthfold/images' error saying how to install it.
try {
  const sharp = (await import('sharp')).default;
  sharp.concurrency(1);
  sharp.cache(false);
} catch {
  // Reported by decodeImage, per request.
}

const reply = (message: ImageJobReply, transfer: ArrayBuffer[] = []): void => {
  try {
    port.postMessage(message, transfer);
  } catch {
    // A buffer that cannot be transferred (one libvips owns, marked untransferable) is copied instead: the input is
    // small, a few kilobytes.
    port.postMessage(message);
  }
};

async function run(job: ImageJob): Promise<void> {
  const { id, bytes, preprocessing, height, width, maxPixels } = job;
  try {
    const image = await decodeImage(bytes, { limitInputPixels: maxPixels });
    if (preprocessing.resize === 'exact' && (image.width !== width || image.height !== height)) {
      reply({
        id,
        failure: 'wrong-size',
        reason: `${image.format.toUpperCase()} of ${image.width}x${image.height} (width x height); the model's preprocessing is resize 'exact', which takes ${width}x${height} only`,
      });
      return;
    }
    const input = preprocessImage(image, preprocessing, { height, width });
    reply({ id, pixels: input.data }, [input.data.buffer as ArrayBuffer]);
  } catch (error) {
    if (error instanceof ImageDecodeError) reply({ id, failure: error.failure, reason: error.reason });
    else reply({ id, internal: error instanceof Error ? error.message : String(error) });
  }
}

port.on('message', (job: ImageJob) => void run(job));
