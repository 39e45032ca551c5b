// The subset of the ONNX protobuf schema that depthfold writes and reads, as a protobufjs JSON descriptor.
// Field numbers and enum values are those of onnx/onnx.proto in the ONNX release v1.12.0 (IR version 8), read
// from the onnx.proto that Debian's python3-onnx 1.12.0 ships; the checker test has that release's protobuf
// read our files back (an older onnx.proto, IR 7, has the same numbers for these messages). The schema is built with
// `Root.fromJSON` from the light protobufjs build: no .proto file is read at runtime, so this runs in browsers.
// Messages and fields that depthfold never touches (sparse tensors, functions, training info, sequence/map types,
// tensor segments, quantization annotations) are left out; protobuf decoders skip fields they do not know.
import protobuf from 'protobufjs/light.js';

/** TensorProto.DataType (onnx.proto v1.12.0). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** A TensorProto.DataType value. */
export type DataType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType (onnx.proto v1.12.0). */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** An AttributeProto.AttributeType value. */
export type AttributeType = (typeof AttributeType)[keyof typeof AttributeType];

// Field names are kept as onnx.proto spells them (snake_case) so that code and spec can be read side by side.
// int64 fields are written from JS numbers; every int64 depthfold writes (dims, ints, versions) is far below 2^53.

/** onnx.TensorProto: initializers are written with `raw_data` (little-endian). */
export interface TensorProto {
  dims?: number[];
  data_type?: DataType;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: number[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryProto[];
  data_location?: number;
  double_data?: number[];
  uint64_data?: number[];
}

/** onnx.TensorShapeProto.Dimension: a fixed size or a named (dynamic) one. */
export interface TensorShapeDimension {
  dim_value?: number;
  dim_param?: string;
  denotation?: string;
}

/** onnx.TensorShapeProto. */
export interface TensorShapeProto {
  dim?: TensorShapeDimension[];
}

/** onnx.TypeProto.Tensor. */
export interface TypeProtoTensor {
  elem_type?: DataType;
  shape?: TensorShapeProto;
}

/** onnx.TypeProto, restricted to tensor types. */
export interface TypeProto {
  tensor_type?: TypeProtoTensor;
  denotation?: string;
}

/** onnx.ValueInfoProto. */
export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  doc_string?: string;
}

/** onnx.AttributeProto (graph-valued attributes left out). */
export interface AttributeProto {
  name?: string;
  ref_attr_name?: string;
  doc_string?: string;
  type?: AttributeType;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  tp?: TypeProto;
  type_protos?: TypeProto[];
}

/** onnx.NodeProto. */
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
}

/** onnx.GraphProto. */
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
}

/** onnx.OperatorSetIdProto: `domain` '' is the default ONNX operator set. */
export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

/** onnx.StringStringEntryProto. */
export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

/** onnx.ModelProto. */
export interface ModelProto {
  ir_version?: number;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props?: StringStringEntryProto[];
}

/**
 * What {@link decodeModelHeader} reads of a ModelProto: the graph is left as its undecoded bytes (field 7 is
 * length-delimited either way), so reading the metadata of a large model does not parse its weights.
 */
export interface ModelHeader {
  ir_version?: number;
  graph?: Uint8Array;
  metadata_props?: StringStringEntryProto[];
}

/** What {@link decodeGraphSignature} reads of a GraphProto: its inputs and outputs, not its nodes and weights. */
export interface GraphSignature {
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}

type FieldRule = 'repeated' | undefined;

function field(id: number, type: string, rule?: FieldRule, packed?: boolean): protobuf.IField {
  return { id, type, ...(rule ? { rule } : {}), ...(packed ? { options: { packed: true } } : {}) };
}

// Top-level types declare proto2 themselves: protobufjs' fromJSON otherwise assumes proto3, which would pack
// repeated scalars that onnx.proto (proto2) does not declare packed.
const PROTO2 = { edition: 'proto2' } as const;

/** The protobufjs JSON descriptor of the `onnx` package (numbers from onnx.proto, ONNX v1.12.0). */
export const ONNX_PROTO_JSON: protobuf.INamespace = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          ...PROTO2,
          fields: {
            name: field(1, 'string'),
            ref_attr_name: field(21, 'string'),
            doc_string: field(13, 'string'),
            type: field(20, 'AttributeType'),
            f: field(2, 'float'),
            i: field(3, 'int64'),
            s: field(4, 'bytes'),
            t: field(5, 'TensorProto'),
            tp: field(14, 'TypeProto'),
            floats: field(7, 'float', 'repeated'),
            ints: field(8, 'int64', 'repeated'),
            strings: field(9, 'bytes', 'repeated'),
            tensors: field(10, 'TensorProto', 'repeated'),
            type_protos: field(15, 'TypeProto', 'repeated'),
          },
          nested: {
            AttributeType: { values: { ...AttributeType } },
          },
        },
        ValueInfoProto: {
          ...PROTO2,
          fields: {
            name: field(1, 'string'),
            type: field(2, 'TypeProto'),
            doc_string: field(3, 'string'),
          },
        },
        NodeProto: {
          ...PROTO2,
          fields: {
            input: field(1, 'string', 'repeated'),
            output: field(2, 'string', 'repeated'),
            name: field(3, 'string'),
            op_type: field(4, 'string'),
            domain: field(7, 'string'),
            attribute: field(5, 'AttributeProto', 'repeated'),
            doc_string: field(6, 'string'),
          },
        },
        ModelProto: {
          ...PROTO2,
          fields: {
            ir_version: field(1, 'int64'),
            opset_import: field(8, 'OperatorSetIdProto', 'repeated'),
            producer_name: field(2, 'string'),
            producer_version: field(3, 'string'),
            domain: field(4, 'string'),
            model_version: field(5, 'int64'),
            doc_string: field(6, 'string'),
            graph: field(7, 'GraphProto'),
            metadata_props: field(14, 'StringStringEntryProto', 'repeated'),
          },
        },
        // Not in onnx.proto: ModelProto with the graph read as bytes (same field numbers), see ModelHeader.
        ModelHeader: {
          ...PROTO2,
          fields: {
            ir_version: field(1, 'int64'),
            graph: field(7, 'bytes'),
            metadata_props: field(14, 'StringStringEntryProto', 'repeated'),
          },
        },
        // Not in onnx.proto: GraphProto with only its inputs and outputs (same field numbers), see GraphSignature.
        GraphSignature: {
          ...PROTO2,
          fields: {
            input: field(11, 'ValueInfoProto', 'repeated'),
            output: field(12, 'ValueInfoProto', 'repeated'),
          },
        },
        StringStringEntryProto: {
          ...PROTO2,
          fields: {
            key: field(1, 'string'),
            value: field(2, 'string'),
          },
        },
        GraphProto: {
          ...PROTO2,
          fields: {
            node: field(1, 'NodeProto', 'repeated'),
            name: field(2, 'string'),
            initializer: field(5, 'TensorProto', 'repeated'),
            doc_string: field(10, 'string'),
            input: field(11, 'ValueInfoProto', 'repeated'),
            output: field(12, 'ValueInfoProto', 'repeated'),
            value_info: field(13, 'ValueInfoProto', 'repeated'),
          },
        },
        TensorProto: {
          ...PROTO2,
          fields: {
            dims: field(1, 'int64', 'repeated'),
            data_type: field(2, 'int32'),
            float_data: field(4, 'float', 'repeated', true),
            int32_data: field(5, 'int32', 'repeated', true),
            string_data: field(6, 'bytes', 'repeated'),
            int64_data: field(7, 'int64', 'repeated', true),
            name: field(8, 'string'),
            doc_string: field(12, 'string'),
            raw_data: field(9, 'bytes'),
            external_data: field(13, 'StringStringEntryProto', 'repeated'),
            data_location: field(14, 'DataLocation'),
            double_data: field(10, 'double', 'repeated', true),
            uint64_data: field(11, 'uint64', 'repeated', true),
          },
          nested: {
            DataType: { values: { ...DataType } },
            DataLocation: { values: { DEFAULT: 0, EXTERNAL: 1 } },
          },
        },
        TensorShapeProto: {
          ...PROTO2,
          fields: {
            dim: field(1, 'Dimension', 'repeated'),
          },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: {
                dim_value: field(1, 'int64'),
                dim_param: field(2, 'string'),
                denotation: field(3, 'string'),
              },
            },
          },
        },
        TypeProto: {
          ...PROTO2,
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: {
            tensor_type: field(1, 'Tensor'),
            denotation: field(6, 'string'),
          },
          nested: {
            Tensor: {
              fields: {
                elem_type: field(1, 'int32'),
                shape: field(2, 'TensorShapeProto'),
              },
            },
          },
        },
        OperatorSetIdProto: {
          ...PROTO2,
          fields: {
            domain: field(1, 'string'),
            version: field(2, 'int64'),
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(ONNX_PROTO_JSON);
const modelType = root.lookupType('onnx.ModelProto');
const headerType = root.lookupType('onnx.ModelHeader');
const signatureType = root.lookupType('onnx.GraphSignature');

// Longs as JS numbers (every int64 we read is small), bytes as Uint8Array, empty repeated fields as [].
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, arrays: true };

/** Serialises a ModelProto; throws if the object does not fit the schema (a bug in the caller, not bad input). */
export function encodeModelProto(model: ModelProto): Uint8Array {
  const problem = modelType.verify(model);
  if (problem) throw new Error(`ModelProto does not fit onnx.proto: ${problem}`);
  return modelType.encode(model).finish();
}

/** Parses a whole ModelProto; throws protobufjs' error on bytes that are not one. */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  return modelType.toObject(modelType.decode(bytes), TO_OBJECT) as ModelProto;
}

/** Parses a ModelProto's version, metadata and graph presence without decoding the graph. */
export function decodeModelHeader(bytes: Uint8Array): ModelHeader {
  return headerType.toObject(headerType.decode(bytes), TO_OBJECT) as ModelHeader;
}

/** Parses a GraphProto's inputs and outputs (e.g. `ModelHeader.graph`), skipping its nodes and initializers. */
export function decodeGraphSignature(graph: Uint8Array): GraphSignature {
  return signatureType.toObject(signatureType.decode(graph), TO_OBJECT) as GraphSignature;
}

/** The top-level ModelProto records (field 14) of `entries`: what a model file holds as its metadata_props. */
export function encodeMetadataProps(entries: readonly StringStringEntryProto[]): Uint8Array {
  return headerType.encode({ metadata_props: entries }).finish();
}
