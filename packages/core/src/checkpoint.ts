// Checkpoints: a safetensors file holding the network's tensors (named as in `parameterSpecs`), the optimizer's
// momentum buffers (`momentum/<name>`) and a JSON `CheckpointInfo` under the metadata key `depthfold`.
import { topologyOf } from './family.js';
import { parameterSpecs } from './parameters.js';
import { DepthfoldInputError, parseWith } from './errors.js';
import { checkpointInfoSchema, type CheckpointInfo } from './metadata.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';

/** Prefix of optimizer momentum buffers in a checkpoint. */
export const MOMENTUM_PREFIX = 'momentum/';

/** A decoded checkpoint. */
export interface Checkpoint {
  info: CheckpointInfo;
  /** Network tensors by parameter name, TensorFlow.js layout. */
  params: Map<string, NamedTensor>;
  /** Momentum buffers by parameter name (absent for parameters never updated yet). */
  momentum: Map<string, NamedTensor>;
}

/** Serialises a checkpoint; the caller writes it atomically. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const tensors = new Map(checkpoint.params);
  for (const [name, t] of checkpoint.momentum) tensors.set(MOMENTUM_PREFIX + name, t);
  return encodeSafetensors(tensors, { depthfold: JSON.stringify(checkpoint.info) });
}

/** Parses and validates a checkpoint: its info against the schema, its tensors against the architecture. */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (typeof metadata.depthfold !== 'string') {
    throw new DepthfoldInputError(
      `${source} metadata.depthfold`,
      'a depthfold checkpoint record (JSON)',
      metadata.depthfold,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.depthfold);
  } catch {
    throw new DepthfoldInputError(`${source} metadata.depthfold`, 'JSON', metadata.depthfold);
  }
  const info = parseWith(checkpointInfoSchema, raw, `checkpoint ${source}`);
  const params = new Map<string, NamedTensor>();
  const momentum = new Map<string, NamedTensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith(MOMENTUM_PREFIX)) momentum.set(name.slice(MOMENTUM_PREFIX.length), t);
    else params.set(name, t);
  }
  for (const p of parameterSpecs(topologyOf(info.architecture))) {
    const t = params.get(p.name);
    if (!t) throw new DepthfoldInputError(`${source} tensor ${p.name}`, `shape [${p.shape.join(', ')}]`, undefined);
    if (t.shape.join() !== p.shape.join()) {
      throw new DepthfoldInputError(
        `${source} tensor ${p.name}`,
        `shape [${p.shape.join(', ')}]`,
        `[${t.shape.join(', ')}]`,
      );
    }
  }
  return { info, params, momentum };
}
