// The demo page: draw or drop an image, see what the network sees at its input size and the model's top 3 classes,
// the provider that ran and the latency; switch devices; and `window.depthfold` for scripts and the browser tests.
// A model that resizes (its preprocessing is not 'exact') is given dropped photos as they are, through
// @depthfold/infer's own preprocessing; an 'exact' model (the built-in datasets) gets the drawing pad's picture.
import {
  InferImageError,
  isDevice,
  load,
  type Classifier,
  type Device,
  type Images,
  type WebImage,
} from '@depthfold/infer';
import type { DemoApi, DemoInspection, DemoResult, DemoRun } from './demo-api.js';
import { DrawPad, pixelsToImageData } from './draw-pad.js';
import { describeInput, describeLabels, describeModel, pageTexts } from './model-description.js';
import { renderTop } from './results-view.js';
import './style.css';

function element<T extends HTMLElement>(id: string, type: abstract new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page lacks #${id}`);
  return found;
}

const ui = {
  model: element('model', HTMLElement),
  inputDescription: element('input-description', HTMLElement),
  labels: element('labels', HTMLElement),
  headline: element('headline', HTMLElement),
  prompt: element('prompt', HTMLElement),
  hint: element('hint', HTMLElement),
  pad: element('pad', HTMLCanvasElement),
  clear: element('clear', HTMLButtonElement),
  file: element('file', HTMLInputElement),
  preview: element('preview', HTMLCanvasElement),
  top: element('top', HTMLOListElement),
  device: element('device', HTMLSelectElement),
  provider: element('provider', HTMLElement),
  threads: element('threads', HTMLElement),
  latency: element('latency', HTMLElement),
  status: element('status', HTMLElement),
};

/**
 * The model's URL: `?model=` (relative to the page, or absolute where the server sends CORS headers) to try another
 * model without a build, else the one the build put beside the page.
 */
const modelUrl = new URLSearchParams(location.search).get('model') ?? __DEPTHFOLD_MODEL_URL__;

let classifier: Classifier | undefined;
// The latest load. Loads run one after the other, each disposing of the classifier before it, so switching devices
// quickly never leaves two sessions alive; classify waits for the latest.
let loading: Promise<Classifier | undefined> = Promise.resolve(undefined);

function status(text: string, error = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', error);
}

function runOf({ info }: Classifier): DemoRun {
  return {
    device: info.device,
    provider: info.provider,
    wasmThreads: info.wasmThreads ?? 1,
    fallbacks: [...info.fallbacks],
    crossOriginIsolated,
  };
}

async function use(device: Device): Promise<DemoRun> {
  ui.device.value = device;
  ui.provider.textContent = '…';
  status(`Loading the model (device ${device})…`);
  classifier = undefined;
  const previous = loading;
  const next = (async () => {
    await (await previous.catch(() => undefined))?.dispose();
    return load(modelUrl, { device });
  })();
  loading = next;
  let loaded: Classifier | undefined;
  try {
    loaded = await next;
  } catch (error) {
    if (loading === next) {
      ui.provider.textContent = 'none';
      status(error instanceof Error ? error.message : String(error), true);
    }
    throw error;
  }
  if (!loaded) throw new Error('no model is loaded');
  if (loading !== next) return runOf(loaded);
  classifier = loaded;
  const { info } = loaded;
  ui.model.textContent = describeModel(info);
  ui.inputDescription.textContent = describeInput(info);
  ui.labels.textContent = describeLabels(info.labels);
  const texts = pageTexts(info.metadata);
  document.title = texts.title;
  ui.headline.textContent = texts.headline;
  ui.prompt.textContent = texts.prompt;
  ui.hint.textContent = texts.hint;
  ui.provider.textContent = info.provider;
  ui.threads.textContent =
    String(info.wasmThreads ?? 1) + (crossOriginIsolated ? '' : ' (page not cross-origin isolated)');
  const fallbacks = info.fallbacks.map((f) => `${f.device} failed: ${f.reason}`).join(' ');
  status(fallbacks ? `Running on ${info.device}. ${fallbacks}` : `Running on ${info.device}.`);
  return runOf(loaded);
}

async function current(): Promise<Classifier> {
  const ready = classifier ?? (await loading);
  if (!ready) throw new Error('no model is loaded');
  return ready;
}

async function classify(image: Images<WebImage>): Promise<DemoResult> {
  const ready = await current();
  const start = performance.now();
  const [result] = await ready.classify(image, { topK: 3 });
  if (!result) throw new Error('classify returned no result for the drawn image');
  const latencyMs = performance.now() - start;
  renderTop(ui.top, result.top);
  ui.latency.textContent = `${latencyMs.toFixed(1)} ms`;
  return { top: result.top, latencyMs };
}

function showPreview(image: ImageData): void {
  ui.preview.width = image.width;
  ui.preview.height = image.height;
  ui.preview.getContext('2d')?.putImageData(image, 0, 0);
}

/** Whether the model resizes images itself: then it is given pictures as they are, and shows what it made of them. */
const resizes = (info: Classifier['info']): boolean => info.preprocessing.resize !== 'exact';

/**
 * What the network sees of `image` (its input before normalisation, HWC), shown in the preview, then classified: the
 * classification of those very pixels, which is the classification of `image`.
 */
async function classifySeen(image: WebImage): Promise<DemoResult> {
  const ready = await current();
  const { width, height, channels } = ready.info.input;
  const [seen] = await ready.preprocess(image);
  if (!seen) throw new Error('preprocess returned no input for the image');
  showPreview(pixelsToImageData(seen, width, height, channels));
  return classify(seen);
}

// One classification of the pad at a time; strokes drawn meanwhile are classified once it ends.
let busy = false;
let again = false;
async function classifyPad(): Promise<void> {
  if (busy) {
    again = true;
    return;
  }
  const info = classifier?.info;
  if (!info) return;
  busy = true;
  try {
    if (resizes(info)) {
      // The model resizes the whole pad, as it would a photo.
      await classifySeen(ui.pad);
    } else {
      const image = pad.sample(info.input.width, info.input.height);
      showPreview(image);
      await classify(image);
    }
  } catch (error) {
    status(error instanceof Error ? error.message : String(error), true);
  } finally {
    busy = false;
  }
  if (again) {
    again = false;
    void classifyPad();
  }
}

const pad = new DrawPad(ui.pad, () => void classifyPad());

async function openImage(file: File): Promise<void> {
  try {
    const ready = await current();
    if (resizes(ready.info)) {
      // The network is given the file itself, which it decodes (an error names the file); the pad shows the photo.
      await classifySeen(file);
      const picture = await createImageBitmap(file);
      pad.paintImage(picture, false, false);
      picture.close();
      status(`${file.name}: classified as the network sees it, at its input size.`);
    } else {
      const picture = await createImageBitmap(file);
      pad.paintImage(picture, ready.info.input.channels === 1, true);
      picture.close();
      await classifyPad();
    }
  } catch (error) {
    // An InferImageError names the file already.
    const message = error instanceof Error ? error.message : String(error);
    status(error instanceof InferImageError ? message : `${file.name}: ${message}`, true);
  }
}

ui.clear.addEventListener('click', () => {
  pad.clear();
  ui.top.replaceChildren();
  ui.latency.textContent = '–';
  showPreview(new ImageData(ui.preview.width, ui.preview.height));
});
ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  if (file) void openImage(file);
  ui.file.value = '';
});
ui.pad.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.pad.classList.add('drop');
});
ui.pad.addEventListener('dragleave', () => ui.pad.classList.remove('drop'));
ui.pad.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.pad.classList.remove('drop');
  const file = e.dataTransfer?.files[0];
  if (file) void openImage(file);
});
ui.device.addEventListener('change', () => {
  if (isDevice(ui.device.value)) use(ui.device.value).catch(() => undefined);
});

const requested = new URLSearchParams(location.search).get('device') ?? 'auto';
const ready = use(isDevice(requested) ? requested : 'auto');
// The page shows a failed load itself; the rejection stays for scripts awaiting `ready`.
ready.catch(() => undefined);

/** Fetches an image and returns it as a Blob, as a dropped file would be. */
async function fetchImage(url: string): Promise<Blob> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.blob();
}

window.depthfold = {
  ready,
  use,
  async classify(values: ArrayLike<number>): Promise<DemoResult> {
    const { width, height, channels } = (await current()).info.input;
    const pixels = Uint8Array.from(values);
    // A wrong count goes to classify as it is, which names what it expected.
    if (pixels.length === width * height * channels) {
      const image = pixelsToImageData(pixels, width, height, channels);
      pad.paintPixels(image);
      showPreview(image);
    }
    try {
      return await classify(pixels);
    } catch (error) {
      status(error instanceof Error ? error.message : String(error), true);
      throw error;
    }
  },
  async inspect(urls: readonly string[]): Promise<DemoInspection[]> {
    const ready = await current();
    const files = await Promise.all(urls.map(fetchImage));
    const [inputs, logits] = await Promise.all([ready.preprocess(files), ready.logits(files)]);
    return files.map((_, i) => ({ input: Array.from(inputs[i]!), logits: Array.from(logits[i]!) }));
  },
} satisfies DemoApi;
