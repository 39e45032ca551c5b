// A small accumulator of ONNX nodes and initializers that keeps node and value names unique and writes every
// initializer as little-endian raw_data, whatever the host's byte order.
import type { NamedTensor } from '@depthfold/core';
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-proto.js';

/** An attribute value, tagged with its ONNX type so that an integral float is never written as INT. */
export type AttributeValue = { ints: readonly number[] } | { int: number } | { float: number } | { string: string };

/** A TensorProto with its name set, as every initializer has. */
export type InitializerProto = TensorProto & { name: string };

/** Whether this host stores numbers little-endian, as ONNX's raw_data is (every x86 and ARM host does). */
const LITTLE_ENDIAN = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;

/** A float32 tensor as an initializer with raw little-endian data. */
export function floatTensor(name: string, tensor: NamedTensor): InitializerProto {
  const raw = new Uint8Array(tensor.data.length * 4);
  if (LITTLE_ENDIAN) {
    // A byte copy: per-value DataView writes took seconds for ResNet-50's 25M weights.
    raw.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, raw.length));
  } else {
    const view = new DataView(raw.buffer);
    tensor.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return { name, dims: [...tensor.shape], data_type: DataType.FLOAT, raw_data: raw };
}

/** An int64 tensor (shapes, pads) as an initializer with raw little-endian data. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): InitializerProto {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [...dims], data_type: DataType.INT64, raw_data: raw };
}

/** A float tensor's type with its dims; a string dim is symbolic (dim_param), e.g. the batch `N`. */
export function floatValueInfo(name: string, dims: readonly (number | string)[]): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d }));
  return { name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim } } } };
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: [...value.ints] };
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
}

/** Collects the nodes and initializers of one graph in topological order. */
export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly nodeNames = new Set<string>();
  private readonly valueNames = new Set<string>();

  /** @param inputs - Names of the graph inputs, which no node or initializer may redefine. */
  constructor(inputs: readonly string[]) {
    for (const name of inputs) this.claimValue(name);
  }

  /**
   * Appends a node of the default ONNX domain with one output.
   * @param output - The output value's name; the node's name by default (nodes and values are separate namespaces).
   * @returns The output value's name.
   */
  node(
    opType: string,
    name: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    output = name,
  ): string {
    if (this.nodeNames.has(name)) throw new Error(`duplicate node name ${name}`);
    for (const input of inputs) {
      if (!this.valueNames.has(input)) throw new Error(`node ${name} reads ${input}, which is not defined yet`);
    }
    this.nodeNames.add(name);
    this.claimValue(output);
    this.nodes.push({
      name,
      op_type: opType,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return output;
  }

  /** Adds an initializer; returns its name. */
  initializer(tensor: InitializerProto): string {
    this.claimValue(tensor.name);
    this.initializers.push(tensor);
    return tensor.name;
  }

  /** The graph with the given interface. */
  build(name: string, inputs: ValueInfoProto[], outputs: ValueInfoProto[], docString?: string): GraphProto {
    for (const output of outputs) {
      if (!output.name || !this.valueNames.has(output.name))
        throw new Error(`graph output ${output.name} is never computed`);
    }
    return {
      name,
      node: [...this.nodes],
      initializer: [...this.initializers],
      input: inputs,
      output: outputs,
      ...(docString ? { doc_string: docString } : {}),
    };
  }

  private claimValue(name: string): void {
    if (this.valueNames.has(name)) throw new Error(`duplicate value name ${name}`);
    this.valueNames.add(name);
  }
}
