// What the page says about a model comes from its metadata: the shipped model (constant depth) is described as
// such, and the schedule, dataset, recorded error, labels and preprocessing of other models change the words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SHIPPED_MODEL } from '@depthfold/core';
import { load, type ClassifierInfo } from '@depthfold/infer/node';
import { depthDescription, describeInput, describeLabels, describeModel, pageTexts } from '../src/model-description.js';

const shippedInfo = async (): Promise<ClassifierInfo> => {
  const classifier = await load(new Uint8Array(readFileSync(new URL(`../../../${SHIPPED_MODEL}`, import.meta.url))), {
    device: 'cpu',
  });
  await classifier.dispose();
  return classifier.info;
};

test('the shipped model is described from its metadata: constant depth, its dataset, its test error', async () => {
  const info = await shippedInfo();
  assert.equal(info.metadata.schedule?.rule, 'none', 'the shipped model was trained at constant depth');
  const error = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 }).format(
    info.metadata.metrics!.testError!,
  );
  assert.equal(
    describeModel(info),
    `ResNet-20 (shortcut A), constant depth, trained on Fashion-MNIST, test error ${error}; 10 classes, 28x28 grey input.`,
  );
  assert.deepEqual(pageTexts(info.metadata), {
    title: 'depthfold: Fashion-MNIST in the browser',
    headline: 'Fashion-MNIST in your browser',
    prompt: 'Draw a garment, or drop an image',
    hint: 'Draw light on dark, as in Fashion-MNIST; an image on a light background is inverted.',
  });
});

test('another schedule, dataset or error changes the description', async () => {
  const info = await shippedInfo();
  const linear = { ...info.metadata.schedule!, rule: 'linear' as const, survivalProb: 0.5 };
  assert.equal(depthDescription(linear), 'stochastic depth (linear decay to p_L = 0.5)');
  assert.equal(
    depthDescription({ ...linear, rule: 'uniform', survivalProb: 0.8 }),
    'stochastic depth (uniform p_L = 0.8)',
  );
  assert.equal(depthDescription({ ...linear, survivalProb: 1 }), 'constant depth', 'p_L = 1 runs every block');
  const mnist = {
    ...info.metadata,
    schedule: linear,
    dataset: { ...info.metadata.dataset!, name: 'mnist' },
    metrics: { ...info.metadata.metrics!, testError: undefined },
  };
  assert.equal(
    describeModel({ ...info, metadata: mnist }),
    'ResNet-20 (shortcut A), stochastic depth (linear decay to p_L = 0.5), trained on MNIST; 10 classes, 28x28 grey input.',
  );
  assert.equal(pageTexts(mnist).prompt, 'Draw a digit, or drop an image');
});

test('a model of a family and a dataset this page does not know is described from what it records', async () => {
  const info = await shippedInfo();
  const metadata = {
    ...info.metadata,
    dataset: { name: 'my-plants', trainExamples: 120 },
    schedule: undefined,
    metrics: undefined,
  };
  const architecture = { family: 'toy-family', depth: 12, input: info.input, numClasses: 10, batchNormEpsilon: 1e-5 };
  assert.equal(
    describeModel({ ...info, architecture, metadata }),
    'toy-family, depth 12, trained on my-plants; 10 classes, 28x28 grey input.',
  );
  assert.equal(pageTexts(metadata).title, 'depthfold: my-plants in the browser');
});

test('the input and the labels are described from the preprocessing and labels the model records', async () => {
  const info = await shippedInfo();
  assert.equal(
    describeInput(info),
    'It takes grey images of exactly 28x28: the page fits a drawing or a photo into that.',
  );
  assert.equal(describeLabels(info.labels), `Classes: ${info.labels.join(', ')}.`);
  const many = Array.from({ length: 23 }, (_, i) => `plant ${i}`);
  assert.equal(
    describeLabels(many),
    `Classes: ${many.slice(0, 20).join(', ')} and 3 more.`,
    'a long list is cut, saying how much',
  );
  const stretch = {
    input: { height: 48, width: 64, channels: 3 },
    preprocessing: {
      resize: 'stretch' as const,
      interpolation: 'bilinear' as const,
      cropFraction: 1,
      colour: 'rgb' as const,
      background: [255, 255, 255] as [number, number, number],
    },
  };
  assert.equal(
    describeInput(stretch),
    'It takes an image of any size: stretched to 64x48 (bilinear), in RGB; transparency on rgb(255, 255, 255).',
  );
  assert.equal(
    describeInput({
      ...stretch,
      preprocessing: { ...stretch.preprocessing, resize: 'shorter-side-crop', cropFraction: 0.875 },
    }),
    'It takes an image of any size: resized to cover 64x48 / 0.875, then its centre 64x48 cropped (bilinear), in RGB; transparency on rgb(255, 255, 255).',
  );
  const photos = {
    ...info.metadata,
    dataset: { name: 'my-plants', trainExamples: 120 },
    input: { ...info.metadata.input, ...stretch.input, preprocessing: stretch.preprocessing },
  };
  assert.deepEqual(pageTexts(photos), {
    title: 'depthfold: my-plants in the browser',
    headline: 'my-plants in your browser',
    prompt: 'Drop a photo, or draw',
    hint: 'Any size, PNG, JPEG or WebP: the network sees it at 64x48, as shown beside the results.',
  });
  assert.match(
    describeModel({ ...info, ...stretch, metadata: photos }),
    /trained on my-plants(, test error [\d.]+%)?; 10 classes, 64x48 RGB input\.$/,
  );
});
