// What the page says about a model comes from its metadata: the shipped model (constant depth) is described as
// such, and the schedule, dataset and recorded error of other models change the words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SHIPPED_MODEL } from '@depthfold/core';
import { load, type ClassifierInfo } from '@depthfold/infer/node';
import { depthDescription, describeModel, pageTexts } from '../src/model-description.js';

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
    `ResNet-20 (shortcut A), constant depth, trained on Fashion-MNIST, test error ${error}; 10 classes, 28x28 input.`,
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
    'ResNet-20 (shortcut A), stochastic depth (linear decay to p_L = 0.5), trained on MNIST; 10 classes, 28x28 input.',
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
    'toy-family, depth 12, trained on my-plants; 10 classes, 28x28 input.',
  );
  assert.equal(pageTexts(metadata).title, 'depthfold: my-plants in the browser');
});
