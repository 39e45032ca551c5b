// @depthfold/serve: a KServe V2 (Open Inference Protocol, as Triton speaks it) REST and gRPC server for depthfold
// ONNX models over onnxruntime-node, with dynamic batching. The CLI is `pnpm serve`; this is the library under it.
export {
  DynamicBatcher,
  type BatcherObserver,
  type BatcherOptions,
  type BatcherStats,
  type Percentiles,
  type RunBatch,
} from './batcher.js';
export {
  decodeBytesElements,
  encodeBytesElements,
  HEADER_LENGTH_HEADER,
  splitBinaryBody,
  type BinaryBody,
} from './binary-data.js';
export { HttpError, OverloadedError } from './errors.js';
export {
  decodeGrpcInferRequest,
  encodeGrpcInferResponse,
  type ModelInferRequest,
  type ModelInferResponse,
} from './grpc-messages.js';
export { PROTO_PATH, serviceDefinition, startGrpcService, type GrpcOptions, type GrpcService } from './grpc-server.js';
export { MAX_JSON_DEPTH, parseJsonBody } from './json-body.js';
export {
  SERVER_DEFAULTS,
  startServer,
  type CloseResult,
  type InferenceServer,
  type ServerOptions,
} from './http-server.js';
export {
  assertFiniteLogits,
  classifyRow,
  decodeInferRequest,
  encodeInferReply,
  encodeInferResponse,
  outputTensors,
  tensorBytes,
  type DecodedRequest,
  type EncodedReply,
  type OutputRequest,
  type OutputTensor,
  type TensorFields,
} from './infer-request.js';
export { INPUT_DATATYPES, MODEL_VERSION, modelMetadataResponse, modelSpecOf, type ModelSpec } from './model-spec.js';
export {
  EXTENSIONS,
  PLATFORM,
  V2_DATATYPES,
  inferenceRequestSchema,
  type DepthfoldModelExtension,
  type InferenceRequest,
  type InferenceResponse,
  type MetadataTensor,
  type ModelMetadataResponse,
  type Parameters,
  type ResponseOutput,
  type ServerMetadata,
  type V2Datatype,
} from './protocol.js';
export {
  loadServedModel,
  MODEL_DEFAULTS,
  SERVE_DEVICES,
  type ModelOptions,
  type ServeDevice,
  type ServedModel,
} from './served-model.js';
export {
  mainThreadCpuSeconds,
  ServerStatistics,
  type ModelStatistics,
  type Outcome,
  type Protocol,
  type StatDuration,
} from './statistics.js';
