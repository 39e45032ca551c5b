// A built-in dataset at another input size: every image resized once, at load, by the same preprocessing that
// inference replays (@depthfold/images), which the checkpoint and the exported model then record. The datasets' own
// images are square, so `stretch` keeps their aspect ratio wherever the input is square too.
import { exactPreprocessing, type Preprocessing } from '@depthfold/core';
import { type ImageSize, preprocessImage } from '@depthfold/images';
import type { Dataset, Split } from './datasets.js';

/** A dataset resized to `size`, and the preprocessing that did it (undefined where nothing changed). */
export interface ResizedDataset {
  dataset: Dataset;
  preprocessing: Preprocessing | undefined;
}

function resizedSplit(split: Split, size: ImageSize, preprocessing: Preprocessing): Split {
  const inSize = split.height * split.width * split.channels;
  const outSize = size.height * size.width * split.channels;
  const images = new Uint8Array(split.count * outSize);
  const channels = split.channels as 1 | 3;
  for (let i = 0; i < split.count; i++) {
    const data = split.images.subarray(i * inSize, (i + 1) * inSize);
    const raw = { width: split.width, height: split.height, channels, data };
    images.set(preprocessImage(raw, preprocessing, size).data, i * outSize);
  }
  return { ...split, images, height: size.height, width: size.width };
}

/** `dataset` at the input `size`: itself where the size is its own, else every image resized once (`stretch`). */
export function resizedDataset(dataset: Dataset, size: ImageSize): ResizedDataset {
  if (size.height === dataset.height && size.width === dataset.width) return { dataset, preprocessing: undefined };
  const preprocessing: Preprocessing = { ...exactPreprocessing(dataset.channels), resize: 'stretch' };
  return {
    dataset: {
      ...dataset,
      train: resizedSplit(dataset.train, size, preprocessing),
      test: resizedSplit(dataset.test, size, preprocessing),
      height: size.height,
      width: size.width,
    },
    preprocessing,
  };
}
