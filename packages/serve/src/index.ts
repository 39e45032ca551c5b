// @depthfold/serve: a KServe V2 (Open Inference Protocol, as Triton speaks it) REST and gRPC server for a repository
// of depthfold ONNX models over onnxruntime-node, with dynamic batching and Triton's repository, configuration and
// statistics extensions. The CLI is `pnpm serve`; this is the library under it.
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
  IMAGE_DECODER_DEFAULTS,
  ImageDecoder,
  type ImageDecoderOptions,
  type ImageDecoderStats,
} from './image-decoder.js';
export {
  BASE64_CONTENT_TYPE,
  IMAGE_EXPECTED,
  ImageRowError,
  imageRowsOf,
  imagesFromBinary,
  imagesFromData,
  isBase64,
  type EncodedImages,
} from './image-input.js';
export {
  decodeGrpcInferRequest,
  encodeGrpcInferResponse,
  type ModelInferRequest,
  type ModelInferResponse,
} from './grpc-messages.js';
export { PROTO_PATH, serviceDefinition, startGrpcService, type GrpcOptions, type GrpcService } from './grpc-server.js';
export { MAX_JSON_DEPTH, parseJsonBody } from './json-body.js';
export { parseTextFormat, TextFormatError, type TextMessage, type TextValue } from './config-pbtxt.js';
export {
  DEFAULT_VERSION_POLICY,
  DEPTHFOLD_PARAMETERS,
  ModelConfigError,
  modelConfigResponse,
  parseModelConfig,
  versionsToServe,
  type ConfigTensor,
  type ModelConfigResponse,
  type RepositoryModelConfig,
  type ServedConfig,
  type VersionPolicy,
} from './model-config.js';
export {
  CONTROL_MODES,
  ModelRepository,
  type IndexEntry,
  type ModelControlMode,
  type ModelLease,
  type ModelState,
  type RepositoryOptions,
} from './model-repository.js';
export { scanRepository, type ModelSource, type VersionSource } from './repository-scan.js';
export { discardBody, readBody, REQUEST_ENCODINGS, requestEncodings, type RequestEncoding } from './request-body.js';
export { compressReply, MIN_COMPRESSED_REPLY_BYTES, replyEncoding, type ReplyEncoding } from './reply-encoding.js';
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
  prepareRequest,
  tensorBytes,
  type DecodedRequest,
  type ImageRequest,
  type ParsedRequest,
  type EncodedReply,
  type OutputRequest,
  type OutputTensor,
  type TensorFields,
} from './infer-request.js';
export {
  DEFAULT_MAX_IMAGE_PIXELS,
  IMAGE_FORMATS,
  IMAGE_INPUT_SHAPE,
  INPUT_DATATYPES,
  MODEL_NAME,
  MODEL_VERSION,
  modelMetadataResponse,
  modelSpecOf,
  type ModelSpec,
} from './model-spec.js';
export {
  EXTENSIONS,
  PLATFORM,
  V2_DATATYPES,
  inferenceRequestSchema,
  type DepthfoldImageInput,
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
  type ResolvedModelOptions,
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
  type StatTarget,
} from './statistics.js';
