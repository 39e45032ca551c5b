// A trained run's test images, preprocessed as its evaluation preprocessed them, for the tools that check a model
// against the run (export's probe batch, the model card): a built-in dataset read and resized again, or a folder run's
// recorded test files read from the decode cache (decoded again only where their entries are gone).
import { resolve } from 'node:path';
import { type CheckpointInfo, exactPreprocessing, FOLDER_DATASET } from '@depthfold/core';
import { runPaths } from '@depthfold/core/node';
import { DecodeCache, filesOf, ImageLoader, readDatasetDescription } from '@depthfold/images/node';
import { type Split, loadDataset } from './datasets.js';
import { defaultCacheDir } from './folder-data.js';
import { resizedDataset } from './resize.js';

/** A run's test images and what they are, in words. */
export interface RunTestSplit {
  split: Split;
  /** e.g. `10000 fashion-mnist test images`, or `40 test images of /data/photos (runs/a/dataset.json)`. */
  source: string;
}

/**
 * The test split of the run that wrote `info` (its checkpoint's record) in `runDir`: every test image of a built-in
 * dataset (not only --test-limit's), or the test files a folder run recorded in `<runDir>/dataset.json`, HWC bytes at
 * the input size.
 *
 * @throws DatasetError when a built-in dataset is not at hand; ImageFolderError when a folder run has no readable
 * file list; ImageDecodeError naming a test image that is neither cached nor decodable as recorded.
 */
export async function runTestSplit(info: CheckpointInfo, runDir: string): Promise<RunTestSplit> {
  const { config, architecture } = info;
  const { height, width, channels } = architecture.input;
  if (config.dataset !== FOLDER_DATASET) {
    const loaded = await loadDataset(config.dataset, config.data);
    const preprocessing = info.preprocessing ?? exactPreprocessing(channels);
    const data = preprocessing.resize === 'exact' ? loaded : resizedDataset(loaded, { height, width }).dataset;
    return { split: data.test, source: `${data.test.count} ${config.dataset} test images` };
  }
  const path = runPaths(runDir).dataset;
  const description = await readDatasetDescription(path);
  const preprocessing = info.preprocessing ?? exactPreprocessing(channels);
  const cache = await DecodeCache.open({
    dir: config.cacheDir ?? defaultCacheDir(),
    preprocessing,
    size: { height, width },
  });
  const root = config.data === undefined ? description.root : resolve(config.data);
  const list = { root, files: filesOf(description, 'test') };
  await cache.fill(list);
  const loader = await ImageLoader.open(cache, list, { memoryBudgetBytes: Number.POSITIVE_INFINITY });
  const bytes = height * width * channels;
  const images = new Uint8Array(loader.count * bytes);
  for (let i = 0; i < loader.count; i++) images.set(await loader.image(i), i * bytes);
  return {
    split: {
      images,
      labels: Int32Array.from(list.files, (f) => f.label),
      count: loader.count,
      height,
      width,
      channels,
    },
    source: `${loader.count} test images of ${root} (${path})`,
  };
}
