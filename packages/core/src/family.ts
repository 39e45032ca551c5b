// The registry of network families, as timm registers its models: a family is a name, the options it takes (a zod
// schema with defaults), a factory that writes the topology of one network, and the named networks it offers
// (`resnet20`, `resnet50`). Everything else (parameters, cost, forward pass, folding, the ONNX graph) is derived from
// the topology, so a new family is its own file and its tests.
//
// A network is stored as its architecture record: `{ family, ...options, input, numClasses, batchNormEpsilon }`,
// enough to write its topology again. Records are provenance for runtimes: @depthfold/infer never needs to know the
// family to run a model.
import { z } from 'zod';
import { DepthfoldInputError, parseWith } from './errors.js';
import { BATCH_NORM_EPSILON, checkTopology, type InputShape, type Topology, totalStride } from './topology.js';

/** A network family: how to write the topology of each of its networks. */
export interface FamilyDefinition<Schema extends z.ZodObject = z.ZodObject> {
  /** The name stored in architecture records, e.g. `resnet-cifar`. */
  name: string;
  /** Names that older records used for this family (read, never written). */
  aliases?: readonly string[];
  /** One line for --help and the README. */
  summary: string;
  /** The options of one network, with their defaults; a strict object, so that an option it lacks is refused. */
  options: Schema;
  /** Turns the options of a record written by an older version into today's form (before `options` parses them). */
  upgrade?: (options: Record<string, unknown>) => Record<string, unknown>;
  /** Named networks: `resnet50` -> its options (the defaults fill in the rest). */
  networks: Readonly<Record<string, Partial<z.output<Schema>>>>;
  /** The topology of one network; throws a DepthfoldInputError for options that do not make one. */
  topology(
    options: z.output<Schema>,
    input: InputShape,
    numClasses: number,
  ): Omit<Topology, 'family' | 'batchNormEpsilon'>;
}

/** Any registered family (the options are the family's own business). */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds families of every option type.
type AnyFamily = FamilyDefinition<any>;

const families = new Map<string, AnyFamily>();
const aliases = new Map<string, string>();

/**
 * Registers a family (at import of its file). A name or network name taken by another family is refused: a name
 * must find one network.
 */
export function registerFamily<Schema extends z.ZodObject>(family: FamilyDefinition<Schema>): void {
  const taken = (name: string) => families.has(name) || aliases.has(name);
  for (const name of [family.name, ...(family.aliases ?? [])]) {
    if (taken(name)) throw new DepthfoldInputError('family.name', 'a family name no other family has', name);
  }
  for (const network of Object.keys(family.networks)) {
    const owner = familyOfNetwork(network);
    if (owner)
      throw new DepthfoldInputError(
        `${family.name}.networks`,
        `a name no other family offers (${owner.name} has it)`,
        network,
      );
  }
  families.set(family.name, family);
  for (const alias of family.aliases ?? []) aliases.set(alias, family.name);
}

/** Removes a family (tests that register one of their own clean up with this). */
export function unregisterFamily(name: string): void {
  const family = families.get(name);
  if (!family) return;
  families.delete(name);
  for (const alias of family.aliases ?? []) aliases.delete(alias);
}

/** The registered families' names, in registration order. */
export function familyNames(): string[] {
  return [...families.keys()];
}

/** Every named network of every family, in registration order. */
export function networkNames(): string[] {
  return [...families.values()].flatMap((f) => Object.keys(f.networks));
}

function familyOfNetwork(network: string): AnyFamily | undefined {
  return [...families.values()].find((f) => Object.hasOwn(f.networks, network));
}

/** The family registered under `name` (or one of its aliases). */
export function familyNamed(name: string): AnyFamily {
  const family = families.get(aliases.get(name) ?? name);
  if (!family) throw new DepthfoldInputError('family', `one of ${familyNames().join(', ')}`, name, 'architecture');
  return family;
}

/** How a network is chosen: a named network or a family, and options that override its defaults. */
export interface NetworkChoice {
  /** A network name (`resnet50`) or a family name (`resnet-imagenet`, with its default options). */
  arch: string;
  /** Options that replace the network's (`depth: 56`); an option the family does not take is refused. */
  overrides?: Readonly<Record<string, unknown>>;
}

/**
 * The family and options of a chosen network, before it meets an input (e.g. the depth of `resnet50`).
 * @throws DepthfoldInputError naming `arch` or the refused option.
 */
export function networkOptions(choice: NetworkChoice): { family: string; options: Record<string, unknown> } {
  const family = familyOfNetwork(choice.arch) ?? families.get(choice.arch);
  if (!family) {
    throw new DepthfoldInputError(
      'arch',
      `a network (${networkNames().join(', ')}) or a family (${familyNames().join(', ')})`,
      choice.arch,
    );
  }
  const named = family.networks[choice.arch] ?? {};
  const given = Object.fromEntries(Object.entries(choice.overrides ?? {}).filter(([, v]) => v !== undefined));
  const known = Object.keys(family.options.shape);
  for (const [key, value] of Object.entries(given)) {
    if (!known.includes(key))
      throw new DepthfoldInputError(
        key,
        `an option of ${family.name} (${known.join(', ')})`,
        value,
        `architecture ${choice.arch}`,
      );
  }
  const options = parseWith(family.options, { ...named, ...given }, `architecture ${choice.arch}`) as Record<
    string,
    unknown
  >;
  return { family: family.name, options };
}

/** The architecture record of a network: its family, its options, and what it is applied to. */
export interface Architecture {
  family: string;
  input: InputShape;
  numClasses: number;
  batchNormEpsilon: number;
  /** The family's options (`depth`, `shortcut`, ...). */
  [option: string]: unknown;
}

const positiveInt = z.number().int().positive();

/** What every architecture record has; the rest is the family's options, checked by the family. */
export const architectureSchema = z.looseObject({
  family: z.string().min(1),
  input: z.object({ height: positiveInt, width: positiveInt, channels: positiveInt }),
  numClasses: z.number().int().min(2),
  batchNormEpsilon: z.number().positive(),
});

const RECORD_FIELDS = new Set(['family', 'input', 'numClasses', 'batchNormEpsilon']);

/** The options part of a record. */
function optionsOf(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !RECORD_FIELDS.has(key)));
}

/**
 * The architecture record of a chosen network on `input` with `numClasses` classes.
 * @throws DepthfoldInputError naming `arch` when no family offers the network, or the option a family refuses.
 */
export function resolveArchitecture(choice: NetworkChoice, input: InputShape, numClasses: number): Architecture {
  const { family, options } = networkOptions(choice);
  const architecture: Architecture = {
    family,
    ...options,
    input: { height: input.height, width: input.width, channels: input.channels },
    numClasses,
    batchNormEpsilon: BATCH_NORM_EPSILON,
  };
  topologyOf(architecture); // refuses an input the network cannot take, naming the smallest that works
  return architecture;
}

/**
 * The topology of an architecture record, checked ({@link checkTopology}); an input smaller than the network's total
 * stride is refused, naming the smallest size that works.
 * @throws DepthfoldInputError for an unknown family, options the family refuses, or an input too small.
 */
export function topologyOf(record: Readonly<Record<string, unknown>>): Topology {
  const base = parseWith(architectureSchema, record, 'architecture');
  const family = familyNamed(base.family);
  const stored = optionsOf(record);
  const options = parseWith(
    family.options,
    family.upgrade ? family.upgrade(stored) : stored,
    `architecture ${base.family}`,
  );
  const written = family.topology(options, base.input, base.numClasses);
  const topology: Topology = { ...written, family: family.name, batchNormEpsilon: base.batchNormEpsilon };
  const smallest = totalStride(topology.layers);
  for (const side of ['height', 'width'] as const) {
    if (base.input[side] < smallest) {
      throw new DepthfoldInputError(
        `input.${side}`,
        `at least ${smallest} pixels, the smallest ${topology.title} takes (its strides divide the input by ${smallest})`,
        base.input[side],
        'architecture',
      );
    }
  }
  checkTopology(topology);
  return topology;
}

/**
 * The topology of a record whose family is registered here, or undefined for a family this process does not know
 * (a record is provenance: a runtime need not know the family to run a model).
 * @throws DepthfoldInputError when a known family refuses the record.
 */
export function knownTopology(record: Readonly<Record<string, unknown>>): Topology | undefined {
  const name = typeof record.family === 'string' ? record.family : '';
  if (!families.has(aliases.get(name) ?? name)) return undefined;
  return topologyOf(record);
}

/**
 * A network's name for people: its topology's title where the family is registered here (`ResNet-50 (ImageNet
 * layout, standard stem)`), else the family and depth the record gives (`my-family, depth 12`), else the family.
 */
export function architectureTitle(record: Readonly<Record<string, unknown>>): string {
  try {
    const topology = knownTopology(record);
    if (topology) return topology.title;
  } catch {
    // A record its family refuses is still named, by what it says.
  }
  const family = typeof record.family === 'string' ? record.family : 'a network';
  return typeof record.depth === 'number' ? `${family}, depth ${record.depth}` : family;
}
