// What the page says about the model it runs, all from the model's own metadata (architecture, survival schedule,
// dataset, recorded test error), so that another model (DEPTHFOLD_DEMO_MODEL) is never described as the shipped one.
// Pure functions without DOM, so Node tests them.
import type { ClassifierInfo } from '@depthfold/infer';

type Metadata = ClassifierInfo['metadata'];
type DatasetName = Metadata['dataset']['name'];

/** How the page names a dataset and what it asks the user to draw. */
const DATASETS: Readonly<Record<DatasetName, { title: string; subject: string }>> = {
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
export function depthDescription(schedule: Metadata['schedule']): string {
  if (schedule.rule === 'none' || schedule.survivalProb === 1) return 'constant depth';
  return schedule.rule === 'linear'
    ? `stochastic depth (linear decay to p_L = ${schedule.survivalProb})`
    : `stochastic depth (uniform p_L = ${schedule.survivalProb})`;
}

/** One line on the model: architecture and depth, dataset and its recorded test error, classes and input size. */
export function describeModel(info: Pick<ClassifierInfo, 'architecture' | 'metadata' | 'labels' | 'input'>): string {
  const { architecture, metadata } = info;
  const error = metadata.metrics.testError;
  const trained = error === undefined ? '' : `, test error ${percent.format(error)}`;
  return (
    `ResNet-${architecture.depth}, ${depthDescription(metadata.schedule)}, trained on ${DATASETS[metadata.dataset.name].title}${trained}; ` +
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
  const { title, subject } = DATASETS[metadata.dataset.name];
  return {
    title: `depthfold: ${title} in the browser`,
    headline: `${title} in your browser`,
    prompt: `Draw ${subject}, or drop an image`,
    hint: `Draw light on dark, as in ${title}; an image on a light background is inverted.`,
  };
}
