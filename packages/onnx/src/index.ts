// @depthfold/onnx: folds batch norm and survival probabilities into conv weights and writes ONNX with protobufjs.
// Browser-safe: no node APIs, no tfjs, no onnxruntime. Node-only file writing is the `@depthfold/onnx/node` entry.
export {
  buildModel,
  BATCH_DIM,
  FOLDED_OPS,
  IR_VERSION,
  OPSET_VERSION,
  PRODUCER_NAME,
  type BuildModelOptions,
} from './graph.js';
export { INPUT_NAME, OUTPUT_NAME } from './consistency.js';
export {
  foldBatchNorm,
  foldNetwork,
  type BatchNormParams,
  type FoldedNetwork,
  type FoldedWeights,
} from './fold.js';
export { GEMM_TRANS_B, denseToGemm, hwioToOihw, nhwcToNchw } from './layout.js';
export { METADATA_KEYS, metadataToProps, propsToMetadata } from './metadata-props.js';
export {
  encodeModel,
  readModelMetadata,
  readModelSignature,
  type ModelSignature,
  type TensorSignature,
} from './model-file.js';
export {
  INTEGRITY_KEY,
  METADATA_PROPS_FIELD,
  integrityPayload,
  modelDigest,
  sha256Hex,
  stampIntegrity,
  wireRecords,
  withIntegrity,
  type WireRecord,
} from './integrity.js';
export { modelMetadata } from './model-metadata.js';
export {
  AttributeType,
  DataType,
  ONNX_PROTO_JSON,
  decodeGraphSignature,
  decodeModelHeader,
  decodeModelProto,
  encodeMetadataProps,
  encodeModelProto,
  type AttributeProto,
  type GraphSignature,
  type GraphProto,
  type ModelHeader,
  type ModelProto,
  type NodeProto,
  type OperatorSetIdProto,
  type StringStringEntryProto,
  type TensorProto,
  type TensorShapeDimension,
  type TensorShapeProto,
  type TypeProto,
  type TypeProtoTensor,
  type ValueInfoProto,
} from './onnx-proto.js';
