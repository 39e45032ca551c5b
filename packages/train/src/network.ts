// The network's state: one tf.Variable per entry of `parameterSpecs`, created fresh or from a checkpoint.
import * as tf from '@tensorflow/tfjs-core';
import { parameterSpecs, type NamedTensor, type ParameterSpec, type ResNetSpec, type Rng } from '@depthfold/core';

/** A network's architecture and its variables, by parameter name. */
export interface Network {
  spec: ResNetSpec;
  /** Every parameter and batch-norm statistic, by name (see `parameterSpecs`). */
  vars: Map<string, tf.Variable>;
}

/** A standard normal sample from two uniforms (Box–Muller). */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * Initial value of a parameter: convs ~ N(0, 2 / (k*k*Cout)) as in He et al. and the paper's Torch code; the head
 * ~ U(-1/sqrt(in), 1/sqrt(in)); batch norm gamma = 1, beta = 0, mean = 0, variance = 1.
 */
function initialValue(p: ParameterSpec, rng: Rng, headInputs: number): Float32Array {
  const size = p.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  switch (p.kind) {
    case 'conv': {
      const [kh, kw, , cout] = p.shape as [number, number, number, number];
      const std = Math.sqrt(2 / (kh * kw * cout));
      for (let i = 0; i < size; i++) data[i] = gaussian(rng) * std;
      break;
    }
    case 'dense-weight':
    case 'dense-bias': {
      const bound = 1 / Math.sqrt(headInputs);
      for (let i = 0; i < size; i++) data[i] = (2 * rng.next() - 1) * bound;
      break;
    }
    case 'bn-gamma':
    case 'bn-variance':
      data.fill(1);
      break;
    case 'bn-beta':
    case 'bn-mean':
      break;
  }
  return data;
}

/** A variable holding `data`; the staging tensor is freed (tf.variable shares its data, not its life). */
function variableOf(data: Float32Array, p: ParameterSpec): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(data, [...p.shape]), p.trainable));
}

/** Initial values of every parameter, drawn from `rng` (plain data: replicas are all built from one draw). */
export function initialTensors(spec: ResNetSpec, rng: Rng): Map<string, NamedTensor> {
  const headInputs = spec.widths[spec.widths.length - 1]!;
  return new Map(
    parameterSpecs(spec).map((p) => [p.name, { shape: p.shape, data: initialValue(p, rng, headInputs) }] as const),
  );
}

/** A freshly initialised network, drawn from `rng`. */
export function createNetwork(spec: ResNetSpec, rng: Rng): Network {
  return networkFromTensors(spec, initialTensors(spec, rng));
}

/** A network holding the given tensors (a checkpoint's), which must cover `parameterSpecs(spec)`. */
export function networkFromTensors(spec: ResNetSpec, tensors: ReadonlyMap<string, NamedTensor>): Network {
  const vars = new Map<string, tf.Variable>();
  for (const p of parameterSpecs(spec)) {
    const t = tensors.get(p.name);
    if (!t) throw new Error(`network: tensor ${p.name} is missing`);
    vars.set(p.name, variableOf(t.data, p));
  }
  return { spec, vars };
}

/** The network's tensors as plain data, for checkpoints. */
export async function networkTensors(net: Network): Promise<Map<string, NamedTensor>> {
  const out = new Map<string, NamedTensor>();
  for (const [name, v] of net.vars) out.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
  return out;
}

/** Frees the network's variables. */
export function disposeNetwork(net: Network): void {
  for (const v of net.vars.values()) v.dispose();
  net.vars.clear();
}
