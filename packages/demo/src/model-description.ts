// What the page says about the model it runs, all from the model's own metadata (architecture, survival schedule,
// dataset, recorded test error, labels, input size and preprocessing), so that another model (DEPTHFOLD_DEMO_MODEL,
// or ?model=) is never described as the shipped one. Pure functions without DOM, so Node tests them.
import { architectureTitle } from '@depthfold/core';
import type { ClassifierInfo } from '@depthfold/infer';

type Metadata = ClassifierInfo['metadata'];
type Preprocessing = ClassifierInfo['preprocessing'];

/** How many labels the page lists before it says how many more there are. */
const LISTED_LABELS = 20;

/** How the page names the built-in datasets and what it asks the user to draw; any other is named as recorded. */
const DATASETS: Readonly<Record<string, { title: string; subject: string }>> = {
  'fashion-mnist': { title: 'Fashion-MNIST', subject: 'a garment' },
  mnist: { title: 'MNIST', subject: 'a digit' },
  cifar10: { title: 'CIFAR-10', subject: 'an object' },
  cifar100: { title: 'CIFAR-100', subject: 'an object' },
};

/** What the page asks for when the dataset is not one it knows. */
const GENERIC_SUBJECT = 'an image';

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
  return (name !== undefined && DATASETS[name]) || { title: name ?? 'its own images', subject: GENERIC_SUBJECT };
}

/** The input's colour in words: `grey` or `RGB`. */
const colourName = (preprocessing: Preprocessing): string => (preprocessing.colour === 'grey' ? 'grey' : 'RGB');

/**
 * One line on the model, from what it records (its family need not be known here): architecture and depth, dataset
 * and its recorded test error, classes, input size and colour.
 */
export function describeModel(
  info: Pick<ClassifierInfo, 'architecture' | 'metadata' | 'labels' | 'input' | 'preprocessing'>,
): string {
  const { architecture, metadata } = info;
  const error = metadata.metrics?.testError;
  const trained = error === undefined ? '' : `, test error ${percent.format(error)}`;
  const network = architecture ? architectureTitle(architecture) : 'A network';
  const depth = metadata.schedule ? `, ${depthDescription(metadata.schedule)}` : '';
  return (
    `${network}${depth}, trained on ${datasetOf(metadata).title}${trained}; ` +
    `${info.labels.length} classes, ${info.input.width}x${info.input.height} ${colourName(info.preprocessing)} input.`
  );
}

/**
 * What the network sees of an image, from the model's recorded preprocessing: the input it takes (`exact`), or how
 * an image of any size becomes its input (`stretch`, `shorter-side-crop`), its colour and the background that
 * transparency is flattened onto.
 */
export function describeInput(info: Pick<ClassifierInfo, 'input' | 'preprocessing'>): string {
  const { input, preprocessing: p } = info;
  const size = `${input.width}x${input.height}`;
  const colour = colourName(p);
  if (p.resize === 'exact')
    return `It takes ${colour} images of exactly ${size}: the page fits a drawing or a photo into that.`;
  const how =
    p.resize === 'stretch'
      ? `stretched to ${size}`
      : `resized to cover ${size} / ${p.cropFraction}, then its centre ${size} cropped`;
  const transparent = `rgb(${p.background.join(', ')})`;
  return `It takes an image of any size: ${how} (${p.interpolation}), in ${colour}; transparency on ${transparent}.`;
}

/** The model's classes, the first {@link LISTED_LABELS} of them, then how many more. */
export function describeLabels(labels: readonly string[]): string {
  const listed = labels.slice(0, LISTED_LABELS).join(', ');
  const more = labels.length > LISTED_LABELS ? ` and ${labels.length - LISTED_LABELS} more` : '';
  return `Classes: ${listed}${more}.`;
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

/**
 * The page's texts for a model trained on `metadata.dataset`. A model that takes its input size only (`exact`, as
 * the built-in datasets) is drawn for, light on dark; a model that resizes is given photos as they are.
 */
export function pageTexts(metadata: Metadata): PageTexts {
  const { title, subject } = datasetOf(metadata);
  const { preprocessing, width, height } = metadata.input;
  const exact = preprocessing.resize === 'exact';
  return {
    title: `depthfold: ${title} in the browser`,
    headline: `${title} in your browser`,
    prompt: exact
      ? `Draw ${subject}, or drop an image`
      : `Drop a photo${subject === GENERIC_SUBJECT ? '' : ` of ${subject}`}, or draw`,
    hint: exact
      ? `Draw light on dark, as in ${title}; an image on a light background is inverted.`
      : `Any size, PNG, JPEG or WebP: the network sees it at ${width}x${height}, as shown beside the results.`,
  };
}
