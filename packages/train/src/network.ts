// The network's state: one tf.Variable per entry of `parameterSpecs`, created fresh or from a checkpoint.
import * as tf from '@tensorflow/tfjs-core';
import { parameterSpecs, type NamedTensor, type ParameterSpec, type Rng, type Topology } from '@depthfold/core';

/** A network's topology and its variables, by parameter name. */
export interface Network {
  topology: Topology;
  /** Every parameter and batch-norm statistic, by name (see `parameterSpecs`). */
  vars: Map<string, tf.Variable>;
}

/** A standard normal sample from two uniforms (Box–Muller). */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * Initial value of a parameter: convs ~ N(0, 2 / (k*k*Cout)) as in He et al., the paper's Torch code and torchvision
 * (kaiming_normal_, fan_out); a dense layer's weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)) (torchvision's Linear);
 * batch norm gamma = 1, beta = 0, mean = 0, variance = 1.
 * @param denseInputs - The `in` of the dense layer the parameter belongs to (dense parameters only).
 */
function initialValue(p: ParameterSpec, rng: Rng, denseInputs: number): Float32Array {
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
      const bound = 1 / Math.sqrt(denseInputs);
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

/**
 * Initial values of every parameter, drawn from `rng` in the order of `parameterSpecs` (plain data: replicas are
 * all built from one draw).
 */
export function initialTensors(topology: Topology, rng: Rng): Map<string, NamedTensor> {
  const specs = parameterSpecs(topology);
  const shapes = new Map(specs.map((p) => [p.name, p.shape] as const));
  // A dense bias draws with its weight's fan-in: the weight is stored beside it, [in, out].
  const denseInputs = (p: ParameterSpec): number =>
    shapes.get(p.kind === 'dense-bias' ? p.name.replace(/\.bias$/, '.weight') : p.name)?.[0] ?? 1;
  return new Map(specs.map((p) => [p.name, { shape: p.shape, data: initialValue(p, rng, denseInputs(p)) }] as const));
}

/** A freshly initialised network, drawn from `rng`. */
export function createNetwork(topology: Topology, rng: Rng): Network {
  return networkFromTensors(topology, initialTensors(topology, rng));
}

/** A network holding the given tensors (a checkpoint's), which must cover `parameterSpecs(topology)`. */
export function networkFromTensors(topology: Topology, tensors: ReadonlyMap<string, NamedTensor>): Network {
  const vars = new Map<string, tf.Variable>();
  for (const p of parameterSpecs(topology)) {
    const t = tensors.get(p.name);
    if (!t) throw new Error(`network: tensor ${p.name} is missing`);
    vars.set(p.name, variableOf(t.data, p));
  }
  return { topology, vars };
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
