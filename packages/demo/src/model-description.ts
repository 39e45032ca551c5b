// What the page says about the model it runs, all from the model's own metadata (architecture, survival schedule,
// dataset, recorded test error), so that another model (DEPTHFOLD_DEMO_MODEL) is never described as the shipped one.
// Pure functions without DOM, so Node tests them.
import { architectureTitle } from '@depthfold/core';
import type { ClassifierInfo } from '@depthfold/infer';

type Metadata = ClassifierInfo['metadata'];

/** How the page names the built-in datasets and what it asks the user to draw; any other is named as recorded. */
const DATASETS: Readonly<Record<string, { title: string; subject: string }>> = {
  'fashion-mnist': { title: 'Fashion-MNIST', subject: 'a garment' },
  mnist: { title: 'MNIST', subject: 'a digit' },
  cifar10: { title: 'CIFAR-10', subject: 'an object' },
  cifar100: { title: 'CIFAR-100', subject: 'an object' },
};

const percent = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 });

/**
 * The depth the network was trained with: `constant depth` (rule none, or p_L = 1, where every block always runs), or
 * `stochastic depth (linear decay to p_L = 0.5)` / `stochastic depth (uniform p_L = 0.8)`.
 */
export function depthDescription(schedule: NonNullable<Metadata['schedule']>): string {
  if (schedule.rule === 'none' || schedule.survivalProb === 1) return 'constant depth';
  return schedule.rule === 'linear'
    ? `stochastic depth (linear decay to p_L = ${schedule.survivalProb})`
    : `stochastic depth (uniform p_L = ${schedule.survivalProb})`;
}

/** The title and subject of the dataset a model records (an unknown or missing one is named as recorded). */
function datasetOf(metadata: Metadata): { title: string; subject: string } {
  const name = metadata.dataset?.name;
  return (name !== undefined && DATASETS[name]) || { title: name ?? 'its own images', subject: 'an image' };
}

/**
 * One line on the model, from what it records (its family need not be known here): architecture and depth, dataset
 * and its recorded test error, classes and input size.
 */
export function describeModel(info: Pick<ClassifierInfo, 'architecture' | 'metadata' | 'labels' | 'input'>): string {
  const { architecture, metadata } = info;
  const error = metadata.metrics?.testError;
  const trained = error === undefined ? '' : `, test error ${percent.format(error)}`;
  const network = architecture ? architectureTitle(architecture) : 'A network';
  const depth = metadata.schedule ? `, ${depthDescription(metadata.schedule)}` : '';
  return (
    `${network}${depth}, trained on ${datasetOf(metadata).title}${trained}; ` +
    `${info.labels.length} classes, ${info.input.width}x${info.input.height} input.`
  );
}

/** The page's texts that depend on the model's dataset. */
export interface PageTexts {
  /** The document title. */
  title: string;
  /** Beside "depthfold" in the header. */
  headline: string;
  /** The heading of the drawing area. */
  prompt: string;
  /** The hint below it. */
  hint: string;
}

/** The page's texts for a model trained on `metadata.dataset`. */
export function pageTexts(metadata: Metadata): PageTexts {
  const { title, subject } = datasetOf(metadata);
  return {
    title: `depthfold: ${title} in the browser`,
    headline: `${title} in your browser`,
    prompt: `Draw ${subject}, or drop an image`,
    hint: `Draw light on dark, as in ${title}; an image on a light background is inverted.`,
  };
}
